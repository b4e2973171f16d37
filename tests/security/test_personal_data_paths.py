"""Where personal data could leak, it does not: logs, error pages, exports for the wrong role, and what is
left in any table after erasure. Each test carries a unique marker in the personal data it sends."""

import datetime as dt
import logging
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from retention.services import retention_enforce
from subjects.models import PersonalDataRecord
from tests.auth import login_verified

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def marker():
    return f"MARKER{uuid.uuid4().hex}"


def _records(world, marker, *, activity="A-01", n=3, collected_on="2020-01-01", identifier=None):
    return [
        world.record(
            external_id=f"ext-{n}-{i}",
            subject=f"s-{i}",
            activity=activity,
            collected_on=collected_on,
            payload={"name": f"Jan {marker}", "email": f"{marker}@example.org"},
            subject_identifiers={"email": f"{identifier or marker}@example.org"},
        )
        for i in range(n)
    ]


def _sweep_until_erased():
    now = timezone.now()
    retention_enforce(now=now)
    retention_enforce(now=now + dt.timedelta(days=400))


# --- (1) logs --------------------------------------------------------------------------------------------


def test_no_payload_or_identifier_reaches_any_log_record(world, marker, caplog):
    caplog.set_level(logging.DEBUG)  # the root logger, every logger below it
    api_a, api_b = world.api("system_a"), world.api("system_b")
    assert api_a.post("records/", _records(world, marker, n=1)[0]).status_code == 201
    assert api_b.post("records/batch/", {"records": _records(world, marker, activity="B-01")}).status_code in (200, 201)
    record = PersonalDataRecord.objects.filter(source_system="crm").get()
    assert api_a.patch(f"records/{record.pk}/", {"contract_ended_on": "2021-01-31"}).status_code == 200
    # Validation failures with the marker everywhere a value can go.
    bad = [
        {**_records(world, marker, n=1)[0], "data_category": "no-such-code"},
        {**_records(world, marker, n=1)[0], "collected_on": f"{marker}"},
        {**_records(world, marker, n=1)[0], "subject": marker * 3},
        {**_records(world, marker, n=1)[0], "activity": marker},
        {**_records(world, marker, n=1)[0], "subject_identifiers": [marker]},
    ]
    for body in bad:
        assert api_a.post("records/", body).status_code == 400
    batch = [*_records(world, marker, activity="B-01"), bad[0]]
    assert api_b.post("records/batch/", {"records": batch}).status_code == 400
    assert api_a.get(f"records/?subject={marker}").status_code in (200, 400)
    _sweep_until_erased()
    assert PersonalDataRecord.objects.filter(status="erased").exists() or not PersonalDataRecord.objects.exists()
    logged = "\n".join(
        f"{r.getMessage()} {r.args!r} {getattr(r, 'request', '')!r} {r.exc_text or ''}" for r in caplog.records
    )
    assert caplog.records, "the steps above log something"
    assert marker not in logged


# --- (2) error pages -------------------------------------------------------------------------------------


def _no_echo(response, marker):
    assert response.status_code < 500, response.status_code
    assert marker not in response.content.decode(errors="replace"), (response.status_code, response.content[:500])


def test_api_validation_errors_do_not_echo_personal_data(world, marker):
    api = world.api("system_a")
    record = _records(world, marker, n=1)[0]
    cases = [
        {**record, "data_category": marker.lower()[:60]},
        {**record, "collected_on": marker},
        {**record, "subject": marker * 3},
        {**record, "external_id": marker * 10},
        {**record, "activity": marker},
        {**record, "retention_rule": marker},
        {**record, "subject_identifiers": [marker]},
        {**record, "payload": [marker] * 10, "data_category": None},
        {**record, "unknown_field": marker},
        {**record, "contract_ended_on": f"{marker}-2020"},
    ]
    for body in cases:
        response = api.post("records/", body)
        assert response.status_code == 400, [key for key in body if marker in str(body[key])]
        _no_echo(response, marker)
    _no_echo(api.post("records/batch/", {"records": cases}), marker)
    broken = f'{{"payload": "{marker}", '
    _no_echo(api.client.post("/api/v1/records/", broken, content_type="application/json"), marker)
    _no_echo(api.get(f"records/?subject={marker}&external_id={marker}"), marker)
    _no_echo(world.api("dpo").post("legal-holds/", {"controller": "acme", "subject": marker, "reason": "x"}), marker)


def test_error_pages_do_not_echo_what_was_sent(client, dpo_client, world, marker, settings):
    settings.DEBUG = False
    for response in (
        client.get(f"/api/v1/{marker}/"),
        client.get(f"/{marker}"),
        dpo_client.get(f"/admin/{marker}/"),
        dpo_client.get(f"/admin/subjects/personaldatarecord/?e={marker}"),
        world.api("dpo").get(f"records/{marker}/"),
        client.post("/admin/login/", {"username": "dpo", "password": marker}),
    ):
        _no_echo(response, marker)


def test_a_server_error_does_not_echo_the_request(world, marker, settings, monkeypatch):
    from retention.api import views

    settings.DEBUG = False

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.RecordViewSet, "create", broken)
    api = world.api("system_a")
    api.client.raise_request_exception = False
    response = api.post("records/", _records(world, marker, n=1)[0])
    assert response.status_code == 500
    assert marker not in response.content.decode()


# --- (3) exports for the wrong role ----------------------------------------------------------------------


def test_payloads_stay_with_their_source_system_and_out_of_register_exports(world, marker, dpo_client):
    assert world.api("system_a").post("records/batch/", {"records": _records(world, marker)}).status_code in (200, 201)
    record = PersonalDataRecord.objects.first()
    for role in ("auditor", "auditor_a"):
        api = world.api(role)
        _no_echo(api.get("records/"), marker)
        _no_echo(api.get(f"records/{record.pk}/"), marker)
    for role in ("system_a_erp", "system_b"):
        api = world.api(role)
        _no_echo(api.get("records/"), marker)
        assert api.get(f"records/{record.pk}/").status_code == 404
    for role in ("dpo", "auditor", "auditor_a"):
        api = world.api(role)
        _no_echo(api.get("register/"), marker)
        for fmt in ("json", "csv", "xlsx"):
            response = api.get(f"register/export/?format={fmt}")
            assert response.status_code == 200, (role, fmt)
            assert marker.encode() not in b"".join(response.streaming_content)
    for role in ("system_a", "system_b"):
        assert world.api(role).get("register/export/?format=json").status_code == 403
    for fmt in ("json", "csv", "xlsx"):
        response = dpo_client.get(f"/admin/register/export/?format={fmt}")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert marker.encode() not in body


def test_non_staff_users_get_no_records(client, django_user_model, world, marker):
    world.api("system_a").post("records/", _records(world, marker, n=1)[0])
    record = PersonalDataRecord.objects.get()
    user = django_user_model.objects.create_user("clerk", password="a-long-test-password")
    login_verified(client, user)
    for url in (
        "/admin/subjects/personaldatarecord/",
        f"/admin/subjects/personaldatarecord/{record.pk}/change/",
        "/api/v1/records/",
        f"/api/v1/records/{record.pk}/",
    ):
        response = client.get(url)
        assert response.status_code in (302, 401, 403), url
        _no_echo(response, marker)


# --- (4) nothing left after erasure ----------------------------------------------------------------------


def dump_database() -> str:
    """Every row of every table of the database, as text."""
    lines = []
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            lines.extend(f"{table}: {row!r}" for row in cursor.fetchall())
    return "\n".join(lines)


def columns_holding(marker: str) -> set[str]:
    """``table.column`` of every column, of every table the database has (found by introspection, not from a
    list), that holds ``marker`` in some row: each column read as text, so JSON, text and anything else."""
    found = set()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            for column in connection.introspection.get_table_description(cursor, table):
                cursor.execute(
                    f"SELECT 1 FROM {quote(table)} WHERE CAST({quote(column.name)} AS TEXT) LIKE %s LIMIT 1",
                    [f"%{marker}%"],
                )
                if cursor.fetchone():
                    found.add(f"{table}.{column.name}")
    return found


# Where a person's data sits while it is kept: every field the marker goes into below. Nothing else may hold
# it, before erasure (no copy in the audit trail, a history table or a log table) or after (nothing at all).
PERSONAL_COLUMNS = {
    "subjects_datasubject.identifiers",
    "subjects_personaldatarecord.payload",
    "subjects_personaldatarecord.external_id",
    "subjects_consentrecord.source",
    "subjects_consentrecord.evidence",
    "subjects_consentrecord.withdrawal_source",
    "subjects_datasubjectrequest.source",
    "subjects_datasubjectrequest.note",
    "subjects_datasubjectrequest.extension_reason",
    "subjects_datasubjectrequest.rejection_reason",
    "subjects_datasubjectrequestevent.reason",
}


def _person(world, marker, key, *, n, collected_on):
    return [
        world.record(
            external_id=f"{marker}-{key}-{i}",
            subject=key,
            collected_on=collected_on,
            payload={"name": f"Jan {marker}", "email": f"{marker}@example.org"},
            subject_identifiers={"email": f"{marker}@example.org", "name": f"Jan {marker}"},
        )
        for i in range(n)
    ]


def _everything_of_a_person(world, marker, key):
    """Through the API, as the systems and the DPO would: records, a consent given and withdrawn, a request
    taken through every step with the DPO's words, a rejected one. The marker goes into every free text."""
    from processing.choices import LegalBasis
    from tests.factories import PurposeFactory

    system, dpo = world.api("system_a"), world.api("dpo")
    response = system.post("records/batch/", {"records": _person(world, marker, key, n=3, collected_on="2020-01-01")})
    assert response.status_code in (200, 201), response.json()
    purpose = PurposeFactory(activity=world.activity_a, legal_basis=LegalBasis.CONSENT)
    consent = system.post(
        "consents/", {"subject": key, "purpose": purpose.pk, "source": marker, "evidence": f"{marker} ticked"}
    )
    assert consent.status_code == 201, consent.json()
    assert system.post(f"consents/{consent.json()['id']}/withdraw/", {"source": marker}).status_code == 200
    filed = system.post("requests/", {"subject": key, "type": "access", "source": marker, "note": marker})
    assert filed.status_code == 201, filed.json()
    pk = filed.json()["id"]
    for step, body in (
        ("identity-request", {"reason": f"{marker} must prove it"}),
        ("identity-verify", {"reason": f"{marker}'s passport seen"}),
        ("extend", {"months": 1, "reason": f"{marker} sent many letters"}),
        ("complete", {"reason": f"mailed to {marker}"}),
    ):
        assert dpo.post(f"requests/{pk}/{step}/", body).status_code == 200, step
    rejected = system.post("requests/", {"subject": key, "type": "rectification", "note": marker}).json()["id"]
    assert dpo.post(f"requests/{rejected}/reject/", {"reason": f"{marker} is not who they say"}).status_code == 200


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("action", ["anonymise", "delete"])
@pytest.mark.parametrize("path", ["request", "sweep"])
def test_after_erasure_nothing_of_the_person_is_in_any_column_of_any_table(
    world, marker, action, path, settings, tmp_path, caplog
):
    from retention.journal import journal_export
    from tests.factories import RetentionRuleFactory

    settings.ROPA_ERASURE_JOURNAL = str(tmp_path / "erasure-journal.jsonl")
    world.rule_a.delete()
    RetentionRuleFactory(
        activity=world.activity_a, trigger="collection", duration_value=1, duration_unit="years", action=action
    )
    system, dpo = world.api("system_a"), world.api("dpo")
    _everything_of_a_person(world, marker, "s-1")
    # Another person of the same controller, whose records are kept: nothing of theirs may go.
    other = f"OTHER{uuid.uuid4().hex}"
    assert system.post("records/batch/", {"records": _person(world, other, "s-2", n=1, collected_on="2099-01-01")})
    dpo.patch(f"processing-activities/{world.activity_a.pk}/", {"description_en": "Customer files"})
    tables = set(connection.introspection.table_names())
    assert {"audit_auditevent", "django_celery_beat_periodictask", "api_apitoken", "axes_accessattempt"} <= tables
    assert any(t.startswith("processing_historical") for t in tables)
    assert columns_holding(marker) == PERSONAL_COLUMNS  # the scan sees each, and no copy anywhere else

    if path == "request":
        erasure = system.post("requests/", {"subject": "s-1", "type": "erasure", "source": marker, "note": marker})
        done = dpo.post(
            f"requests/{erasure.json()['id']}/complete/",
            {"reason": f"done for {marker}", "identity_override": f"{marker} called from a known number"},
        )
        assert done.status_code == 200 and done.json()["outcome"]["subject"] == {"identifiers": "cleared"}
    else:
        _sweep_until_erased()
    assert not PersonalDataRecord.objects.filter(subject__key="s-1").exists()
    # The source system erases its copies and confirms: the feed forgets its ids.
    ids = [line["external_id"] for line in system.get("erasure-feed/").json()["results"]]
    assert len(ids) == 3 and all(marker in i for i in ids)
    assert system.post("erasure-feed/confirm/", {"external_ids": ids}).json()["confirmed"] == 3
    # A later access request: the package hands out nothing of the person.
    later = system.post("requests/", {"subject": "s-1", "type": "access"}).json()["id"]
    assert dpo.post(f"requests/{later}/identity-verify/", {}).status_code == 200
    package = dpo.get(f"requests/{later}/package/", HTTP_ACCEPT="application/zip")
    assert package.status_code == 200 and marker.encode() not in package.content
    journal_export()
    journal = (tmp_path / "erasure-journal.jsonl").read_text()
    assert '"kind":"tombstone"' in journal and marker not in journal

    assert columns_holding(marker) == set(), "left after erasure"
    assert marker not in dump_database()
    assert marker not in caplog.text
    assert columns_holding(other) == {
        "subjects_datasubject.identifiers",
        "subjects_personaldatarecord.payload",
        "subjects_personaldatarecord.external_id",
    }
