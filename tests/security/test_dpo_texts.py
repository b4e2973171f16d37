"""The DPO's free text (a legal hold's reasons, a request's note, extension and rejection reasons, the reasons
of its steps) may name a person: DPO tokens read it, system and auditor tokens get null, and an erasure
request's outcome names a hold by its id only."""

import pytest

from tests.auth import login_verified

pytestmark = pytest.mark.django_db

SECRET = "Jan Peeters of Kortrijk"


@pytest.fixture
def texts(world):
    system, dpo = world.api("system_a"), world.api("dpo")
    assert system.post("records/", world.record(subject="s-1")).status_code == 201
    hold = dpo.post("legal-holds/", {"controller": "acme", "subject": "s-1", "reason": f"Dispute with {SECRET}"})
    assert hold.status_code == 201, hold.json()
    other_hold = dpo.post("legal-holds/", {"activity": world.activity_b.pk, "reason": f"Audit of {SECRET}"}).json()
    assert dpo.post(f"legal-holds/{other_hold['id']}/release/", {"reason": f"{SECRET} settled"}).status_code == 200
    access = system.post("requests/", {"subject": "s-1", "type": "access", "note": f"{SECRET} asks"}).json()["id"]
    assert dpo.post(f"requests/{access}/extend/", {"months": 1, "reason": f"{SECRET} wrote twice"}).status_code == 200
    rejected = system.post("requests/", {"subject": "s-1", "type": "rectification"}).json()["id"]
    assert dpo.post(f"requests/{rejected}/reject/", {"reason": f"{SECRET} is unknown"}).status_code == 200
    erasure = system.post("requests/", {"subject": "s-1", "type": "erasure"}).json()["id"]
    done = dpo.post(f"requests/{erasure}/complete/", {"identity_override": f"{SECRET} called from a known number"})
    assert done.status_code == 200
    world.hold_id, world.erasure = hold.json()["id"], erasure
    return world


def test_an_erasure_outcome_names_the_hold_by_id_only(texts):
    outcome = texts.api("dpo").get(f"requests/{texts.erasure}/").json()["outcome"]
    (kept,) = outcome["kept"]
    assert kept["reason"] == f"legal hold #{texts.hold_id}" and kept["legal_holds"] == [texts.hold_id]
    assert outcome["subject"]["identifiers"] == "kept"
    assert outcome["subject"]["kept_for"]["legal_holds"] == [texts.hold_id]
    assert SECRET not in str(outcome)


@pytest.mark.parametrize("role", ["system_a", "auditor", "auditor_a"])
def test_system_and_auditor_tokens_read_no_free_text_of_the_dpo(texts, role):
    api = texts.api(role)
    for path in ("legal-holds/", "requests/"):
        listing = api.get(path)
        assert listing.status_code == 200 and SECRET not in listing.content.decode(), path
        assert listing.json()["results"], path
    for hold in api.get("legal-holds/").json()["results"]:
        assert hold["reason"] is None and hold["release_reason"] is None
        assert SECRET not in api.get(f"legal-holds/{hold['id']}/").content.decode()
    for request in api.get("requests/").json()["results"]:
        assert (request["note"], request["extension_reason"], request["rejection_reason"]) == (None, None, None)
        assert {event["reason"] for event in request["events"]} == {None}
        assert SECRET not in api.get(f"requests/{request['id']}/").content.decode()


def test_dpo_tokens_read_the_free_text(texts):
    api = texts.api("dpo")
    reasons = {hold["reason"] for hold in api.get("legal-holds/").json()["results"]}
    assert reasons == {f"Dispute with {SECRET}", f"Audit of {SECRET}"}
    requests = api.get("requests/").json()["results"]
    assert f"{SECRET} asks" in {r["note"] for r in requests}
    assert f"{SECRET} is unknown" in {r["rejection_reason"] for r in requests}
    assert any(e["reason"] == f"{SECRET} wrote twice" for r in requests for e in r["events"])
    # The reason for completing without verified identity is the DPO's too (the person is kept: a hold).
    assert any(e["reason"] == f"{SECRET} called from a known number" for r in requests for e in r["events"])


def test_a_hold_without_a_reason_is_refused(texts):
    for reason in (None, "", "   "):
        response = texts.api("dpo").post("legal-holds/", {"controller": "acme", "reason": reason})
        assert response.status_code == 400 and "reason" in response.json(), reason


def test_in_the_admin_an_auditor_reads_no_free_text_of_the_dpo(texts, dpo_client, django_user_model):
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.urls import reverse

    from ropa.access.groups import ensure_groups
    from subjects.models import DataSubjectRequest

    ensure_groups()
    auditor = django_user_model.objects.create_user("auditor", password="a-long-test-password", is_staff=True)
    auditor.groups.add(Group.objects.get(name="Auditor"))
    client = Client()  # its own, beside the DPO's
    login_verified(client, auditor)
    pages = [reverse("admin:retention_legalhold_changelist")]
    pages += [reverse("admin:retention_legalhold_change", args=[texts.hold_id])]
    pages += [
        reverse("admin:subjects_datasubjectrequest_change", args=[pk])
        for pk in DataSubjectRequest.objects.values_list("pk", flat=True)
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200 and SECRET not in response.content.decode(), url
    assert client.get(reverse("admin:retention_legalhold_changelist"), {"q": "Jan"}).status_code == 200
    seen = "".join(dpo_client.get(url).content.decode() for url in pages)
    for text in (f"Dispute with {SECRET}", f"{SECRET} asks", f"{SECRET} wrote twice", f"{SECRET} is unknown"):
        assert text in seen, text
