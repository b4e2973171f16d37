"""Re-registering a record over the API: what an upsert may change and what it must leave alone.

- A legal hold in force freezes what decides which hold and which rules cover a record (its subject,
  activity, data category and named rule): a re-registration that would move it is a 409 naming the
  hold by id, never its reason, and nothing is written.
- A record under an Art. 18 restriction is stored, not processed: a new payload, other trigger dates or
  a move are a 409 naming the request that restricted it, until the restriction is lifted.
- Omitted fields are kept (payload, dates, named rule, subject identifiers); an explicit null clears.
- Each record says whether it was created, updated or left unchanged, and warns when it gets no expiry.
"""

import datetime as dt
import json

import pytest

from retention.models import LegalHold
from retention.services import legal_hold_place, retention_enforce
from subjects.models import ConsentRecord, DataSubject, PersonalDataRecord
from tests.factories import RetentionRuleFactory

pytestmark = pytest.mark.django_db

LATER = dt.datetime(2031, 1, 1, 12, tzinfo=dt.UTC)  # far past every expiry below


@pytest.fixture
def two(world, dpo):
    """Acme's crm registered c-1 under A-01 (expired long ago); A-02 is another activity of acme."""
    world.activity_a2 = world.activity(world.a, "A-02")
    world.rule_a2 = RetentionRuleFactory(activity=world.activity_a2, trigger="collection", duration_value=1)
    world.dpo_user = dpo
    response = world.api("system_a").post("records/", world.record(contract_ended_on="2020-01-31"))
    assert response.status_code == 201, response.json()
    world.record_id = response.json()["id"]
    return world


def stored(world) -> PersonalDataRecord:
    return PersonalDataRecord.objects.get(pk=world.record_id)


def hold_on_activity(world) -> LegalHold:
    return legal_hold_place(
        reason="Litigation Peeters v. Acme, ref 2024/113", actor=world.dpo_user, activity=world.activity_a
    )


# --- holds ---------------------------------------------------------------------------------------------


def test_a_held_record_cannot_leave_its_activity_hold_by_re_registration(two):
    hold = hold_on_activity(two)
    api = two.api("system_a")
    response = api.post("records/", two.record(activity="A-02", contract_ended_on="2020-01-31"))
    assert response.status_code == 409, response.json()
    body = response.json()
    assert f"#{hold.pk}" in body["detail"] and "activity" in body["detail"]
    assert (body["code"], body["holds"], body["fields"]) == ("record_held", [hold.pk], ["activity"])
    assert "Litigation" not in json.dumps(body) and "Peeters" not in json.dumps(body)
    # The batch path is refused the same way, and writes nothing of the batch.
    batch = [two.record(external_id="c-new"), two.record(activity="A-02", contract_ended_on="2020-01-31")]
    response = api.post("records/batch/", {"records": batch})
    assert response.status_code == 409, response.json()
    body = response.json()
    assert f"#{hold.pk}" in body["detail"] and "Litigation" not in json.dumps(body)
    assert list(body["records"]) == ["1"] and body["records"]["1"]["holds"] == [hold.pk]
    assert not PersonalDataRecord.objects.filter(external_id="c-new").exists()
    assert stored(two).activity_id == two.activity_a.pk
    # So the hold still covers it and no sweep takes it while the hold is in force.
    retention_enforce(now=LATER)
    retention_enforce(now=LATER + dt.timedelta(days=400))
    assert stored(two).status == "active"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": "s-2"}, "subject"),
        ({"data_category": "health-data"}, "data_category"),
        ("rule", "retention_rule"),
    ],
)
def test_a_held_record_keeps_its_subject_category_and_named_rule(two, change, field):
    hold = legal_hold_place(reason="Audit", actor=two.dpo_user, record=stored(two))
    two.activity_a.data_categories.add(two.special)
    if change == "rule":
        change = {"retention_rule": RetentionRuleFactory(activity=two.activity_a, trigger="collection").pk}
    response = two.api("system_a").post("records/", two.record(contract_ended_on="2020-01-31", **change))
    assert response.status_code == 409, response.json()
    assert response.json()["fields"] == [field] and response.json()["holds"] == [hold.pk]
    record = stored(two)
    assert (record.subject.key, record.data_category.code, record.retention_rule_id) == ("s-1", "contact-data", None)


def test_a_held_record_still_takes_new_dates_and_payload(two):
    hold_on_activity(two)
    response = two.api("system_a").post(
        "records/", two.record(contract_ended_on="2021-01-31", payload={"name": "Jan Peeters-Claes"})
    )
    assert response.status_code == 200, response.json()
    assert response.json()["outcome"] == "updated"
    assert stored(two).payload == {"name": "Jan Peeters-Claes"}


def test_without_a_hold_a_record_moves_to_another_activity(two):
    response = two.api("system_a").post("records/", two.record(activity="A-02", contract_ended_on="2020-01-31"))
    assert response.status_code == 200, response.json()
    assert response.json()["outcome"] == "updated"
    assert stored(two).activity_id == two.activity_a2.pk


def test_a_released_hold_no_longer_freezes_the_record(two):
    from retention.services import legal_hold_release

    hold = hold_on_activity(two)
    legal_hold_release(hold=hold, actor=two.dpo_user, reason="Settled")
    response = two.api("system_a").post("records/", two.record(activity="A-02", contract_ended_on="2020-01-31"))
    assert response.status_code == 200, response.json()


# --- restriction (Art. 18) ------------------------------------------------------------------------------


def restrict(world) -> int:
    dpo = world.api("dpo")
    pk = dpo.post("requests/", {"controller": "acme", "subject": "s-1", "type": "restriction"}).json()["id"]
    assert dpo.post(f"requests/{pk}/complete/", {}).json()["outcome"]["restricted"] == [world.record_id]
    return pk


def test_a_restricted_record_refuses_a_new_payload_and_new_dates_until_lifted(two):
    request_id = restrict(two)
    api = two.api("system_a")
    response = api.post("records/", two.record(contract_ended_on="2020-01-31", payload={"name": "Other"}))
    assert response.status_code == 409, response.json()
    body = response.json()
    assert "restricted" in body["detail"] and f"#{request_id}" in body["detail"]
    assert (body["code"], body["request"], body["fields"]) == ("record_restricted", request_id, ["payload"])
    response = api.post("records/batch/", {"records": [two.record(contract_ended_on="2022-05-31")]})
    assert response.status_code == 409 and response.json()["records"]["0"]["fields"] == ["contract_ended_on"]
    response = api.patch(f"records/{two.record_id}/", {"contract_ended_on": "2023-01-31"})
    assert response.status_code == 409, response.json()
    assert f"#{request_id}" in response.json()["detail"]
    # Sending what is stored (the payload left out) changes nothing, so it is no conflict.
    same = api.post("records/", {k: v for k, v in two.record(contract_ended_on="2020-01-31").items() if k != "payload"})
    assert same.status_code == 200 and same.json()["outcome"] == "unchanged"
    record = stored(two)
    assert (record.payload, record.contract_ended_on) == ({"name": "Jan Peeters"}, dt.date(2020, 1, 31))
    assert two.api("dpo").post(f"requests/{request_id}/lift-restriction/", {}).status_code == 200
    response = api.patch(f"records/{two.record_id}/", {"contract_ended_on": "2023-01-31"})
    assert response.status_code == 200 and response.json()["contract_ended_on"] == "2023-01-31"


def test_a_consent_withdrawal_still_moves_a_restricted_record(two):
    """The withdrawal is the person's own act: it is recorded on the restricted record too, so that its
    retention follows (storage only, and only ever toward erasure)."""
    from processing.choices import LegalBasis
    from tests.factories import PurposeFactory

    purpose = PurposeFactory(activity=two.activity_a, legal_basis=LegalBasis.CONSENT)
    restrict(two)
    consent = (
        two.api("system_a")
        .post("consents/", {"subject": "s-1", "purpose": purpose.pk, "source": "web form"})
        .json()["id"]
    )
    response = two.api("system_a").post(f"consents/{consent}/withdraw/", {})
    assert response.status_code == 200, response.json()
    assert [line["record"] for line in response.json()["records"]] == [two.record_id]
    assert stored(two).consent_withdrawn_on is not None
    assert ConsentRecord.objects.get(pk=consent).withdrawn_at is not None


# --- omitted fields ------------------------------------------------------------------------------------


def test_an_upsert_without_payload_keeps_it_and_null_clears_it(two):
    api = two.api("system_a")
    partial = {
        k: v for k, v in two.record(account_closed_on="2026-11-30").items() if k not in ("payload", "collected_on")
    }
    response = api.post("records/batch/", {"records": [partial]})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"], body["existing"]) == (0, 1, 0, 1)
    assert body["results"][0]["outcome"] == "updated"
    record = stored(two)
    assert record.payload == {"name": "Jan Peeters"}
    assert (record.account_closed_on, record.collected_on) == (dt.date(2026, 11, 30), dt.date(2024, 1, 15))
    again = api.post("records/batch/", {"records": [partial]}).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    assert again["results"][0]["outcome"] == "unchanged"
    cleared = api.post("records/", {**partial, "payload": None, "collected_on": None})
    assert cleared.status_code == 200 and cleared.json()["outcome"] == "updated"
    record = stored(two)
    assert (record.payload, record.collected_on, record.account_closed_on) == (None, None, dt.date(2026, 11, 30))


def test_an_upsert_without_the_named_rule_keeps_it_and_null_clears_it(two):
    api = two.api("system_a")
    named = RetentionRuleFactory(activity=two.activity_a, trigger="collection", duration_value=3)
    assert api.post("records/", two.record(retention_rule=named.pk)).json()["outcome"] == "updated"
    assert api.post("records/", two.record()).json()["outcome"] == "unchanged"
    assert stored(two).retention_rule_id == named.pk
    assert api.post("records/", two.record(retention_rule=None)).json()["outcome"] == "updated"
    assert stored(two).retention_rule_id is None


def test_an_upsert_without_identifiers_keeps_them(two):
    api = two.api("system_a")
    api.post("records/", two.record(subject_identifiers={"email": "jan@example.be"}))
    api.post("records/", two.record(external_id="c-2"))
    assert DataSubject.objects.get(key="s-1").identifiers == {"email": "jan@example.be"}


def test_single_registration_says_created_updated_or_unchanged(two):
    api = two.api("system_a")
    first = api.post("records/", two.record(external_id="c-9"))
    assert (first.status_code, first.json()["outcome"], first.json()["created"]) == (201, "created", True)
    same = api.post("records/", two.record(external_id="c-9"))
    assert (same.status_code, same.json()["outcome"], same.json()["created"]) == (200, "unchanged", False)
    moved = api.post("records/", two.record(external_id="c-9", last_contact_on="2024-02-01"))
    assert (moved.status_code, moved.json()["outcome"]) == (200, "updated")


# --- no expiry -----------------------------------------------------------------------------------------


def test_a_record_without_expiry_comes_with_a_warning(two):
    api = two.api("system_a")
    # A-01 keeps contact data 2 years after the contract ends; this contract has not ended.
    response = api.post("records/", two.record(external_id="c-open"))
    assert response.status_code == 201
    (warning,) = response.json()["warnings"]
    assert warning["code"] == "no_expiry"
    assert "contract_ended_on" in warning["detail"]
    dated = api.post("records/", two.record(external_id="c-ended", contract_ended_on="2024-01-31"))
    assert dated.json()["warnings"] == []
    batch = api.post(
        "records/batch/", {"records": [two.record(external_id="c-open"), two.record(external_id="c-ended")]}
    ).json()
    assert [[w["code"] for w in r["warnings"]] for r in batch["results"]] == [["no_expiry"], []]
