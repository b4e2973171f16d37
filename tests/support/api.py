"""The API as the tests call it: a client holding one token, and a world of two controllers with a token
per role."""


import datetime as dt

import pytest
from rest_framework.test import APIClient

from processing.models import ProcessingActivity
from ropa.api.services import api_token_issue
from tests.factories import (
    ControllerFactory,
    DataCategoryFactory,
    DataSubjectCategoryFactory,
    ProcessingActivityFactory,
    PurposeFactory,
    RecipientFactory,
    RetentionRuleFactory,
    SecurityMeasureFactory,
)


class Api:
    """An API client holding one token."""

    def __init__(self, token: str | None):
        self.client = APIClient()
        if token:
            self.client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    def __getattr__(self, method):
        call = getattr(self.client, method)

        def request(path, data=None, **kwargs):
            path = path if path.startswith("/") else f"/api/v1/{path}"
            if method in ("post", "put", "patch", "delete") and data is not None:
                kwargs.setdefault("format", "json")
            return call(path, data, **kwargs)

        return request


class ApiWorld:
    """Two controllers, each with an activity, a rule and recipients; a token for every role."""

    def __init__(self):
        self.category = DataCategoryFactory(code="contact-data")
        self.special = DataCategoryFactory(code="health-data", special_category=True)
        self.subjects = DataSubjectCategoryFactory(code="customers")
        self.measure = SecurityMeasureFactory(code="encryption")
        self.a = ControllerFactory(key="acme")
        self.b = ControllerFactory(key="globex")
        self.activity_a = self.activity(self.a, "A-01")
        self.activity_b = self.activity(self.b, "B-01")
        self.rule_a = RetentionRuleFactory(
            activity=self.activity_a, trigger="contract_end", duration_value=2, duration_unit="years"
        )
        self.rule_b = RetentionRuleFactory(activity=self.activity_b, trigger="collection", duration_value=1)
        self.recipient_a = RecipientFactory(controller=self.a, key="mailer", country="US", safeguard="scc")
        self.recipient_b = RecipientFactory(controller=self.b, key="printer")
        self.tokens = {
            "dpo": self.issue("dpo"),
            "auditor": self.issue("auditor"),
            "auditor_a": self.issue("auditor", controllers=[self.a]),
            "system_a": self.issue("system", controllers=[self.a], source_system="crm"),
            "system_a_erp": self.issue("system", controllers=[self.a], source_system="erp"),
            "system_b": self.issue("system", controllers=[self.b], source_system="billing"),
        }

    def activity(self, controller, reference) -> ProcessingActivity:
        activity = ProcessingActivityFactory(controller=controller, reference=reference)
        PurposeFactory(activity=activity)
        activity.data_categories.add(self.category)
        activity.data_subject_categories.add(self.subjects)
        activity.security_measures.add(self.measure)
        return activity

    def issue(self, role, **kwargs) -> str:
        return api_token_issue(role=role, name=f"{role} test", **kwargs)[1]

    def api(self, who: str | None) -> Api:
        return Api(self.tokens[who] if who else None)

    def record(self, *, external_id="c-1", subject="s-1", activity=None, **fields) -> dict:
        return {
            "external_id": external_id,
            "subject": subject,
            "activity": activity or self.activity_a.reference,
            "data_category": self.category.code,
            "payload": {"name": "Jan Peeters"},
            "collected_on": "2024-01-15",
            **fields,
        }


# The fixtures of the API's tests, which the security tests share (their conftests import these).
@pytest.fixture
def world(db):
    return ApiWorld()


@pytest.fixture
def anyone():
    return Api(None)


@pytest.fixture
def today():
    return dt.date.today()
