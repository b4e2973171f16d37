"""Schemathesis against the live schema, through the WSGI app, with a DPO token: whatever it generates,
valid or not, the API never answers 5xx. Bounded to a few examples per operation and mode (about 1,100
requests), so it stays well under a minute."""

import contextlib

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from processing.choices import LegalBasis
from tests.factories import PurposeFactory

EXAMPLES = 8

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def wsgi_app():
    """The project's WSGI app, keeping the test's connection open across requests (as Django's test
    client does): the test's transaction holds the data."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_no_server_error_on_any_generated_request(world, settings):
    settings.ROPA_API_THROTTLE_RATE = "1000000/minute"
    headers = {"Authorization": f"Token {world.tokens['dpo']}"}
    record = world.api("system_a").post("records/", world.record()).json()["id"]
    hold = world.api("dpo").post("legal-holds/", {"controller": "acme", "reason": "Audit"}).json()["id"]
    purpose = PurposeFactory(activity=world.activity_a, legal_basis=LegalBasis.CONSENT)
    consent = world.api("system_a").post("consents/", {"subject": "s-1", "purpose": purpose.pk, "source": "form"})
    request = world.api("system_a").post("requests/", {"subject": "s-1", "type": "erasure"})
    ids = {
        "controllers": world.a.pk,
        "recipients": world.recipient_a.pk,
        "data-categories": world.category.pk,
        "data-subject-categories": world.subjects.pk,
        "security-measures": world.measure.pk,
        "processing-activities": world.activity_a.pk,
        "purposes": purpose.pk,
        "records": record,
        "legal-holds": hold,
        "consents": consent.json()["id"],
        "requests": request.json()["id"],
        "breaches": world.api("system_a")
        .post("breaches/", {"title": "Export", "aware_at": "2026-01-01T10:00:00Z", "external_reference": "S-1"})
        .json()["id"],
    }
    with wsgi_app() as app:
        schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", app)
        failures, operations = fuzz(schema, headers, ids)
    assert operations >= 57
    assert not failures, "\n\n".join(failures)


def fuzz(schema, headers: dict, ids: dict) -> tuple[list[str], int]:
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategies = {
            "positive": operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            "negative": operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        }
        if "{id}" in operation.path:
            # Also aim at objects that exist, or every update would be a 404.
            known = ids[operation.path.split("/")[3]]
            strategies["existing object"] = operation.as_strategy(path_parameters={"id": known})
        for mode, strategy in strategies.items():

            @given(case=strategy)
            @hypothesis_settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case):
                # Negative mode also drops the token; keep it, so that bad bodies reach the views.
                case.headers = {**(case.headers or {}), **headers}
                response = case.call()
                case.validate_response(response, checks=[not_a_server_error])

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, then report
                failures.append(f"{operation.label} ({mode}): {exc}")
    return failures, operations
