"""Consent and data-subject requests over the API: systems file for their own controller only, auditors
read, DPO tokens take each step; bad input is a 400 naming the field; the package is a real zip."""

import datetime as dt
import io
import json
import zipfile

import pytest
from django.utils import timezone

from processing.choices import LegalBasis
from retention.models import ErasureNotice
from subjects.models import ConsentRecord, DataSubject, DataSubjectRequest, PersonalDataRecord
from tests.factories import PurposeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(world):
    """Person s-1 of acme with a record from acme's crm, and a consent purpose on acme's activity."""
    assert world.api("system_a").post("records/", world.record()).status_code == 201
    world.purpose = PurposeFactory(activity=world.activity_a, legal_basis=LegalBasis.CONSENT)
    return world


def file_request(world, who="system_a", **body):
    return world.api(who).post("requests/", {"subject": "s-1", "type": "access", **body})


def test_system_files_a_request_for_its_own_controller(filed):
    response = file_request(filed)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["controller"], body["subject"], body["status"], body["source"]) == ("acme", "s-1", "received", "crm")
    today = timezone.localdate()
    assert body["received_on"] == today.isoformat()
    assert body["days_left"] == (dt.date.fromisoformat(body["due_on"]) - today).days
    assert [e["kind"] for e in body["events"]] == ["received"]


def test_system_cannot_file_for_another_controller(filed):
    response = file_request(filed, controller="globex")
    assert response.status_code == 400 and "controller" in response.json()
    # globex's system does not know acme's subject.
    response = file_request(filed, who="system_b")
    assert response.status_code == 400 and "subject" in response.json()
    assert not DataSubjectRequest.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject": "nobody"}, "subject"),
        ({"type": "forget-me"}, "type"),
        ({"received_on": "2999-01-01"}, "received_on"),
        ({"received_on": "yesterday"}, "received_on"),
        ({"subject": 12}, "subject"),
    ],
)
def test_bad_request_input_names_the_field(filed, body, field):
    response = file_request(filed, **body)
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not DataSubjectRequest.objects.exists()


def test_dpo_names_the_controller(filed):
    assert "controller" in file_request(filed, who="dpo").json()
    assert file_request(filed, who="dpo", controller="acme").status_code == 201


def test_auditor_reads_but_cannot_file_or_act(filed):
    pk = file_request(filed).json()["id"]
    assert file_request(filed, who="auditor").status_code == 403
    assert filed.api("auditor_a").get(f"requests/{pk}/").status_code == 200
    assert filed.api("auditor_a").post(f"requests/{pk}/reject/", {"reason": "x"}).status_code == 403
    assert filed.api("system_a").post(f"requests/{pk}/complete/", {}).status_code == 403
    assert filed.api("system_b").get(f"requests/{pk}/").status_code == 404


def test_dpo_steps_identity_extend_and_reject_with_clear_errors(filed):
    dpo = filed.api("dpo")
    pk = file_request(filed).json()["id"]
    body = dpo.post(f"requests/{pk}/identity-request/", {"reason": "Copy of identity card asked"}).json()
    assert body["status"] == "awaiting_identity" and body["days_left"] is None
    assert dpo.post(f"requests/{pk}/complete/", {}).json() == {
        "status": ["The requester's identity has not been verified yet."]
    }
    assert dpo.post(f"requests/{pk}/identity-verify/", {}).json()["status"] == "in_progress"
    response = dpo.post(f"requests/{pk}/extend/", {"months": 3, "reason": "Complex"})
    assert response.status_code == 400 and "months" in response.json()
    response = dpo.post(f"requests/{pk}/extend/", {"months": "two", "reason": "Complex"})
    assert response.status_code == 400 and "months" in response.json()
    assert dpo.post(f"requests/{pk}/extend/", {"months": 2, "reason": "Complex"}).json()["extension_months"] == 2
    response = dpo.post(f"requests/{pk}/extend/", {"months": 1, "reason": "More"})
    assert response.status_code == 400 and "months" in response.json()
    assert "reason" in dpo.post(f"requests/{pk}/reject/", {}).json()
    body = dpo.post(f"requests/{pk}/reject/", {"reason": "Identity documents forged"}).json()
    assert (body["status"], body["rejection_reason"]) == ("rejected", "Identity documents forged")
    closed = dpo.post(f"requests/{pk}/extend/", {"months": 1, "reason": "x"})
    assert closed.status_code == 400 and "status" in closed.json()
    kinds = [e["kind"] for e in dpo.get(f"requests/{pk}/").json()["events"]]
    assert kinds == ["received", "identity_requested", "identity_verified", "extended", "rejected"]


def test_a_request_names_its_person_by_key_or_identifiers_and_files_for_an_unregistered_one(filed):
    system = filed.api("system_a")
    subject = DataSubject.objects.get(key="s-1")
    subject.identifiers = {"email": "jan@example.be"}
    subject.save()
    body = system.post("requests/", {"identifiers": {"mail": " JAN@example.be"}, "type": "access"}).json()
    assert body["subject"] == "s-1" and body["language"] == "en"
    # Nobody has these identifiers: a person no system has registered, registered now (with a new key).
    body = system.post("requests/", {"identifiers": {"email": "new@example.be"}, "type": "erasure", "language": "fr"})
    assert body.status_code == 201, body.json()
    new = DataSubject.objects.get(key=body.json()["subject"])
    assert new.identifiers == {"email": "new@example.be"} and body.json()["language"] == "fr"
    # An unknown key is refused, unless identifiers come with it.
    refused = system.post("requests/", {"subject": "s-404", "type": "access"})
    assert refused.status_code == 400 and "give its identifiers too" in refused.json()["subject"][0]
    body = system.post("requests/", {"subject": "s-405", "identifiers": {"email": "x@example.be"}, "type": "access"})
    assert body.status_code == 201 and DataSubject.objects.get(key="s-405").identifiers == {"email": "x@example.be"}
    for bad, field in (
        ({"type": "access"}, "subject"),
        ({"identifiers": {"e mail!": "x"}, "type": "access"}, "identifiers"),
        ({"subject": "s-1", "type": "access", "language": "de"}, "language"),
    ):
        response = system.post("requests/", bad)
        assert response.status_code == 400 and field in response.json(), (bad, response.json())
    assert DataSubject.objects.filter(key__in=["s-404"]).count() == 0


def test_completing_without_verified_identity_needs_the_dpos_reason_and_is_an_event(filed):
    dpo = filed.api("dpo")
    pk = file_request(filed, type="erasure").json()["id"]
    body = dpo.post(f"requests/{pk}/complete/", {"identity_override": "Known number, called back"}).json()
    assert body["status"] == "completed" and body["identity_overridden_at"]
    assert [e["kind"] for e in body["events"]] == ["received", "identity_overridden", "completed"]
    verified = file_request(filed, type="access").json()["id"]
    assert dpo.post(f"requests/{verified}/identity-verify/", {}).status_code == 200
    response = dpo.post(f"requests/{verified}/complete/", {"identity_override": "why not"})
    assert response.status_code == 400 and "no check to override" in response.json()["identity_override"][0]
    # A rectification destroys and discloses nothing: no identity gate.
    other = file_request(filed, type="rectification").json()["id"]
    assert dpo.post(f"requests/{other}/complete/", {"fields": ["email"]}).status_code == 200


def test_erasure_over_the_api_feeds_the_source_system(filed):
    pk = file_request(filed, type="erasure").json()["id"]
    refused = filed.api("dpo").post(f"requests/{pk}/complete/", {})
    assert refused.status_code == 400 and "identity_override" in refused.json()  # identity not verified
    assert PersonalDataRecord.objects.exists()
    assert filed.api("dpo").post(f"requests/{pk}/identity-verify/", {}).status_code == 200
    body = filed.api("dpo").post(f"requests/{pk}/complete/", {}).json()
    assert body["status"] == "completed"
    assert [line["source_system"] for line in body["outcome"]["erased"]] == ["crm"]
    feed = filed.api("system_a").get("erasure-feed/").json()["results"]
    assert [line["external_id"] for line in feed] == ["c-1"]
    assert ErasureNotice.objects.count() == 1 and not PersonalDataRecord.objects.exists()


def test_package_download_is_a_zip_for_dpo_tokens(filed):
    pk = file_request(filed).json()["id"]
    response = filed.api("dpo").get(f"requests/{pk}/package/")
    assert response.status_code == 400 and "identity" in response.json()  # not to whoever asks
    assert filed.api("dpo").post(f"requests/{pk}/identity-verify/", {}).status_code == 200
    response = filed.api("dpo").get(f"requests/{pk}/package/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    package = json.loads(archive.read("package.json"))
    assert package["records"][0]["payload"] == {"name": "Jan Peeters"}
    assert package["activities"][0]["reference"] == "A-01"
    assert filed.api("system_a").get(f"requests/{pk}/package/").status_code == 403
    erasure = file_request(filed, type="erasure").json()["id"]
    response = filed.api("dpo").get(f"requests/{erasure}/package/")
    assert response.status_code == 400 and "type" in response.json()
    events = filed.api("dpo").get(f"requests/{pk}/").json()["events"]
    assert events[-1]["kind"] == "package_downloaded"


def test_restricted_record_is_marked_and_its_payload_withheld_from_the_system(filed):
    pk = file_request(filed, type="restriction").json()["id"]
    body = filed.api("dpo").post(f"requests/{pk}/complete/", {}).json()
    (record_id,) = body["outcome"]["restricted"]
    seen = filed.api("system_a").get("records/?restricted=true").json()["results"]
    assert [(r["id"], r["restricted"], r["payload"]) for r in seen] == [(record_id, True, None)]
    assert filed.api("dpo").get(f"records/{record_id}/").json()["payload"] == {"name": "Jan Peeters"}
    assert filed.api("system_a").get("records/?restricted=false").json()["results"] == []
    lifted = filed.api("dpo").post(f"requests/{pk}/lift-restriction/", {"reason": "Accuracy verified"})
    assert lifted.status_code == 200
    again = filed.api("system_a").get(f"records/{record_id}/").json()
    assert (again["restricted"], again["payload"]) == (False, {"name": "Jan Peeters"})


def test_rectification_fields_must_be_names(filed):
    pk = file_request(filed, type="rectification").json()["id"]
    response = filed.api("dpo").post(f"requests/{pk}/complete/", {"fields": ["jan@example.be"]})
    assert response.status_code == 400 and "fields" in response.json()
    response = filed.api("dpo").post(f"requests/{pk}/complete/", {"fields": "email"})
    assert response.status_code == 400 and "fields" in response.json()
    body = filed.api("dpo").post(f"requests/{pk}/complete/", {"fields": ["email"]}).json()
    assert body["outcome"] == {"type": "rectification", "fields": ["email"]}


def test_consent_recorded_and_withdrawn_by_the_system_moves_expiry(filed, settings):
    system = filed.api("system_a")
    body = {"subject": "s-1", "purpose": filed.purpose.pk, "source": "web form", "evidence_version": "v1"}
    created = system.post("consents/", body)
    assert created.status_code == 201, created.json()
    consent = created.json()
    assert (consent["controller"], consent["activity"], consent["withdrawn_at"]) == ("acme", "A-01", None)
    withdrawn = system.post(f"consents/{consent['id']}/withdraw/", {"source": "preference centre"})
    assert withdrawn.status_code == 200, withdrawn.json()
    record = PersonalDataRecord.objects.get()
    assert record.consent_withdrawn_on == timezone.localdate()
    assert withdrawn.json()["records"] == [{"record": record.pk, "expires_at": None}]  # the rule waits for contract end
    again = system.post(f"consents/{consent['id']}/withdraw/", {})
    assert again.status_code == 400 and "withdrawn_at" in again.json()
    assert filed.api("system_b").post(f"consents/{consent['id']}/withdraw/", {}).status_code == 404
    assert filed.api("auditor").post(f"consents/{consent['id']}/withdraw/", {}).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": 999999}, "purpose"),
        ({"purpose": "one"}, "purpose"),
        ({"subject": "nobody"}, "subject"),
        ({"given_at": "2030-13-01T00:00:00Z"}, "given_at"),
        ({"given_at": "0001-01-01T00:00:00+14:00"}, "given_at"),
        ({"source": ""}, "source"),
    ],
)
def test_bad_consent_input_names_the_field(filed, body, field):
    payload = {"subject": "s-1", "purpose": filed.purpose.pk, "source": "form", **body}
    response = filed.api("system_a").post("consents/", payload)
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not ConsentRecord.objects.exists()


def test_consent_to_a_purpose_of_another_controller_is_refused(filed):
    foreign = PurposeFactory(activity=filed.activity_b, legal_basis=LegalBasis.CONSENT)
    response = filed.api("system_a").post("consents/", {"subject": "s-1", "purpose": foreign.pk, "source": "form"})
    assert response.status_code == 400 and "purpose" in response.json()


def test_request_list_filters_by_deadline(filed, django_assert_max_num_queries):
    old = file_request(filed, received_on=(timezone.localdate() - dt.timedelta(days=45)).isoformat()).json()["id"]
    file_request(filed)
    with django_assert_max_num_queries(8):
        rows = filed.api("dpo").get("requests/?deadline=overdue").json()["results"]
    assert [row["id"] for row in rows] == [old]
    assert filed.api("dpo").get("requests/?deadline=soon").status_code == 400
