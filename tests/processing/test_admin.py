"""The admin pages a DPO works in render and save through the services."""

import pytest
from django.urls import reverse

from processing.models import ProcessingActivity
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
from tests.support.forms import activity_form

pytestmark = pytest.mark.django_db

MODELS = [
    "controller",
    "recipient",
    "datasubjectcategory",
    "datacategory",
    "securitymeasure",
    "processingactivity",
]


@pytest.fixture
def register():
    activity = ProcessingActivityFactory()
    PurposeFactory(activity=activity)
    RetentionRuleFactory(activity=activity)
    activity.data_subject_categories.add(DataSubjectCategoryFactory())
    activity.data_categories.add(DataCategoryFactory())
    activity.security_measures.add(SecurityMeasureFactory())
    activity.recipients.add(RecipientFactory(controller=activity.controller, country="US", safeguard="scc"))
    return activity


@pytest.mark.parametrize("model", MODELS)
def test_changelist_and_add_pages_render(dpo_client, register, model):
    for view in ("changelist", "add"):
        response = dpo_client.get(reverse(f"admin:processing_{model}_{view}"))
        assert response.status_code == 200, (model, view)


@pytest.mark.parametrize("model", MODELS)
def test_change_and_history_pages_render(dpo_client, register, model):
    instance = ProcessingActivity._meta.apps.get_model("processing", model).objects.first()
    for view in ("change", "history"):
        response = dpo_client.get(reverse(f"admin:processing_{model}_{view}", args=[instance.pk]))
        assert response.status_code == 200, (model, view)


def test_retention_rule_pages_render(dpo_client, register):
    rule = register.retention_rules.get()
    assert dpo_client.get(reverse("admin:retention_retentionrule_changelist")).status_code == 200
    response = dpo_client.get(reverse("admin:retention_retentionrule_change", args=[rule.pk]))
    assert response.status_code == 200


def test_activity_page_shows_retention_inline(dpo_client, register):
    response = dpo_client.get(reverse("admin:processing_processingactivity_change", args=[register.pk]))
    assert b"retention_rules-TOTAL_FORMS" in response.content


@pytest.mark.parametrize(
    ("query", "expected"),
    [("third_country=yes", 1), ("third_country=no", 1), ("legal_basis=contract", 1), ("legal_basis=consent", 0)],
)
def test_activity_filters(dpo_client, register, query, expected):
    ProcessingActivityFactory(controller=register.controller)  # no purposes, no recipients
    response = dpo_client.get(reverse("admin:processing_processingactivity_changelist") + "?" + query)
    assert response.status_code == 200
    assert response.context["cl"].result_count == expected


def test_dpo_creates_activity_with_purpose_and_rule(dpo_client, dpo):
    controller = ControllerFactory()
    response = dpo_client.post(reverse("admin:processing_processingactivity_add"), activity_form(controller))
    assert response.status_code == 302, response.context["errors"] if response.context else response
    activity = ProcessingActivity.objects.get(reference="NEW-1")
    assert activity.purposes.get().legal_basis == "contract"
    assert activity.retention_rules.get().sentence("en") == "Deleted 3 years after the last activity."
    assert activity.history.latest().history_user == dpo


def test_admin_refuses_special_data_without_art9_condition(dpo_client):
    controller = ControllerFactory()
    health = DataCategoryFactory(code="health", special_category=True)
    response = dpo_client.post(
        reverse("admin:processing_processingactivity_add"), activity_form(controller, data_categories=[health.pk])
    )
    assert response.status_code == 200
    assert "art9_condition" in response.context["adminform"].form.errors
    assert not ProcessingActivity.objects.exists()


def test_admin_refuses_legitimate_interest_without_interest(dpo_client):
    controller = ControllerFactory()
    response = dpo_client.post(
        reverse("admin:processing_processingactivity_add"),
        activity_form(controller, **{"purposes-0-legal_basis": "legitimate_interests"}),
    )
    assert response.status_code == 200
    assert not ProcessingActivity.objects.exists()
    assert "State the legitimate interest" in response.content.decode()


def test_activity_cannot_be_deleted_from_admin(dpo_client, register):
    response = dpo_client.get(reverse("admin:processing_processingactivity_delete", args=[register.pk]))
    assert response.status_code == 403


def test_activity_form_offers_and_accepts_only_its_controllers_recipients(dpo_client, register):
    other = RecipientFactory()  # another controller's recipient
    url = reverse("admin:processing_processingactivity_change", args=[register.pk])
    offered = dpo_client.get(url).context["adminform"].form.fields["recipients"].queryset
    assert other not in offered and register.recipients.get() in offered

    data = activity_form(register.controller, reference="NEW-2", recipients=[other.pk])
    response = dpo_client.post(reverse("admin:processing_processingactivity_add"), data)
    assert response.status_code == 200
    assert "recipients" in response.context["adminform"].form.errors
