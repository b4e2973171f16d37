"""Retention rules written through the activity API: a PATCH changes only what it sends, a PUT states what
decides retention, partial rows are 400s naming the field, a statutory minimum that still keeps records is
never weakened without a stated (and audited) override, and every write says whose expiry moved earlier."""

import datetime as dt

import pytest
from django.utils import timezone

from processing.models import ProcessingActivity
from retention.models import LegalHold, RetentionRule
from retention.services import legal_hold_place, retention_enforce
from ropa.audit.models import AuditEvent
from subjects.models import PersonalDataRecord
from tests.factories import ProcessingActivityFactory, RetentionRuleFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


def years_ago(n: int) -> str:
    return TODAY.replace(year=TODAY.year - n, day=min(TODAY.day, 28)).isoformat()


class Law:
    """Activity A-01 of the API world: its 2-year rule and a statutory one (10 years after the contract ends,
    accounting law), with three records registered by the CRM: one whose contract ended 3 years ago (kept
    by the law for 7 more years), one whose contract still runs (kept), and one past both rules."""

    def __init__(self, world):
        self.world = world
        self.api = world.api("dpo")
        self.url = f"processing-activities/{world.activity_a.pk}/"
        self.rule = RetentionRuleFactory(
            activity=world.activity_a,
            trigger="contract_end",
            duration_value=10,
            duration_unit="years",
            statutory=True,
            legal_reference="Art. III.88 WER",
            note="Boekhoudkundige bewaarplicht",
            source_quote="Facturen bewaren we 10 jaar na het einde van het contract.",
            position=1,
        )
        records = [
            world.record(external_id="kept", subject="s-1", contract_ended_on=years_ago(3)),
            world.record(external_id="running", subject="s-2"),
            world.record(external_id="old", subject="s-3", contract_ended_on=years_ago(12)),
        ]
        response = world.api("system_a").post("records/batch/", {"records": records})
        assert response.status_code == 200, response.json()
        self.ids = {line["external_id"]: line["id"] for line in response.json()["results"]}

    def record(self, name: str) -> PersonalDataRecord | None:
        return PersonalDataRecord.objects.filter(pk=self.ids[name]).first()

    def stored(self) -> dict:
        rule = RetentionRule.objects.get(pk=self.rule.pk)
        return {
            "duration": (rule.duration_value, rule.duration_unit),
            "trigger": rule.trigger,
            "statutory": rule.statutory,
            "legal_reference": rule.legal_reference,
            "note": rule.note,
            "source_quote": rule.source_quote,
        }

    def expiries(self) -> dict:
        return dict(PersonalDataRecord.objects.values_list("external_id", "expires_at"))

    def rows(self, **changes) -> list[dict]:
        """The activity's two rules as GET shows them, the statutory one with ``changes``."""
        current = self.api.get(self.url).json()["retention_rules"]
        return [{**row, **changes} if row["id"] == self.rule.pk else row for row in current]

    def sweep_twice(self) -> None:
        """Flag, then erase once the grace period has passed."""
        now = timezone.now()
        retention_enforce(now=now)
        retention_enforce(now=now + dt.timedelta(days=31))


@pytest.fixture
def law(world):
    return Law(world)


def test_patch_of_one_key_of_a_statutory_rule_changes_only_that_key(law):
    before, expiries = law.stored(), law.expiries()
    body = {"retention_rules": [{"id": law.rule.pk, "trigger": "contract_end", "legal_reference": "WER III.88"}]}
    response = law.api.patch(law.url, {"retention_rules": [{"id": law.world.rule_a.pk}, *body["retention_rules"]]})
    assert response.status_code == 200, response.json()
    assert law.stored() == {**before, "legal_reference": "WER III.88"}
    (row,) = [r for r in response.json()["retention_rules"] if r["id"] == law.rule.pk]
    assert row["text"] == "Deleted 10 years after the end of the contract (statutory minimum: WER III.88)."
    assert law.expiries() == expiries
    assert response.json()["retention_changes"] == {"earlier": 0, "records": [], "now_due": 0}
    law.sweep_twice()
    assert law.record("kept") is not None and law.record("running") is not None


def test_patch_of_a_rule_with_only_its_id_and_one_key_merges_onto_it(law):
    response = law.api.patch(
        law.url, {"retention_rules": [{"id": law.world.rule_a.pk}, {"id": law.rule.pk, "note": "Zie WER."}]}
    )
    assert response.status_code == 200, response.json()
    assert law.stored()["note"] == "Zie WER."
    assert law.stored()["duration"] == (10, "years") and law.stored()["statutory"] is True
    assert RetentionRule.objects.get(pk=law.world.rule_a.pk).duration_value == 2


@pytest.mark.parametrize(
    ("row", "errors"),
    [
        ({}, {"trigger": ["This field is required."]}),
        ({"duration": {"value": 5}}, {"duration": {"unit": ["This field is required."]}}),
        (
            {"trigger": "collection", "duration": {"unit": "years"}},
            {"duration": {"value": ["This field is required."]}},
        ),
        ({"id": 999999, "note": "x"}, {"id": ["No retention rule 999999 on this activity."]}),
    ],
)
def test_partial_rule_rows_in_a_patch_are_400s_naming_the_field(law, row, errors):
    before = law.stored()
    response = law.api.patch(law.url, {"retention_rules": [{"id": law.world.rule_a.pk}, {"id": law.rule.pk}, row]})
    assert response.status_code == 400, response.json()
    assert response.json() == {"retention_rules": {"2": errors}}
    assert law.stored() == before and RetentionRule.objects.filter(activity=law.world.activity_a).count() == 2


@pytest.mark.parametrize("left_out", ["statutory", "duration", "maximum", "action", "grace_days", "trigger"])
def test_put_refuses_a_rule_row_without_what_decides_its_retention(law, left_out):
    before = law.stored()
    current = law.api.get(law.url).json()
    current["retention_rules"] = law.rows()
    for row in current["retention_rules"]:
        if row["id"] == law.rule.pk:
            del row[left_out]
    response = law.api.put(law.url, current)
    assert response.status_code == 400, response.json()
    (errors,) = response.json()["retention_rules"].values()
    assert errors[left_out] == ["This field is required."]
    assert law.stored() == before


def test_put_with_full_rows_replaces_the_rule(law):
    current = law.api.get(law.url).json()
    current["retention_rules"] = law.rows(note="", source_quote="Nieuw citaat.")
    response = law.api.put(law.url, current)
    assert response.status_code == 200, response.json()
    assert law.stored()["note"] == "" and law.stored()["source_quote"] == "Nieuw citaat."
    assert law.stored()["statutory"] is True


@pytest.mark.parametrize(
    ("change", "changes"),
    [
        ({"remove": True}, ["deleted"]),
        ({"statutory": False}, ["statutory"]),
        ({"duration": {"value": 1, "unit": "years"}}, ["duration"]),
        ({"duration": {"value": 100, "unit": "days"}}, ["duration"]),
        ({"duration": None, "action": "flag"}, ["duration"]),
        ({"trigger": "collection"}, ["trigger"]),
        ({"data_category": "contact-data"}, ["data_category"]),
    ],
)
def test_weakening_a_statutory_rule_that_keeps_records_is_a_409_and_changes_nothing(law, change, changes):
    before, expiries = law.stored(), law.expiries()
    if change.pop("remove", False):
        rules = [{"id": law.world.rule_a.pk}]
    else:
        rules = [{"id": law.world.rule_a.pk}, {"id": law.rule.pk, **change}]
    response = law.api.patch(law.url, {"retention_rules": rules})
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] == "statutory_rule_weakened"
    assert f"Rule {law.rule.pk}" in body["detail"] and "reason for overriding" in body["detail"]
    assert body["rules"] == [
        {
            "id": law.rule.pk,
            "text": "Deleted 10 years after the end of the contract (statutory minimum: Art. III.88 WER).",
            "records_kept": 2,
            "changes": changes,
        }
    ]
    assert body["fields"] == ["retention_rules"]
    assert law.stored() == before and law.expiries() == expiries
    law.sweep_twice()
    assert law.record("kept") is not None and law.record("running") is not None


def test_a_longer_statutory_period_needs_no_override(law):
    rules = [{"id": law.world.rule_a.pk}, {"id": law.rule.pk, "duration": {"value": 130, "unit": "months"}}]
    response = law.api.patch(law.url, {"retention_rules": rules})
    assert response.status_code == 200, response.json()
    assert response.json()["retention_changes"]["earlier"] == 0


def test_override_with_a_reason_weakens_the_rule_audits_it_and_lists_the_records(law):
    rules = [
        {"id": law.world.rule_a.pk},
        {"id": law.rule.pk, "statutory": False, "duration": {"value": 1, "unit": "years"}},
    ]
    reason = "Accountant confirmed the bookkeeping period is 1 year for these records."
    response = law.api.patch(law.url, {"retention_rules": rules, "override": {"reason": reason}})
    assert response.status_code == 200, response.json()
    # "kept" now ends with the 2-year rule (a year ago), "old" 10 years ago instead of 2; "running" still
    # waits for its contract to end.
    moved = sorted([law.ids["kept"], law.ids["old"]])
    assert response.json()["retention_changes"] == {"earlier": 2, "records": moved, "now_due": 2}
    assert law.stored()["statutory"] is False
    events = AuditEvent.objects.filter(object_type="retention.retentionrule", object_id=str(law.rule.pk))
    (override,) = [event for event in events if "statutory override" in event.changed_fields]
    assert override.action == "update"
    assert override.changes["override_reason"] == [None, reason]
    assert override.changes["records_kept"] == [2, None]
    assert override.actor.startswith("token ")
    (change,) = [event for event in events if event.pk != override.pk and event.action == "update"]
    assert change.changes["statutory"] == [True, False]
    assert change.changes["duration_value"] == [10, 1]


def test_removing_a_statutory_rule_with_an_override_keeps_its_old_values_in_the_audit(law):
    response = law.api.patch(
        law.url, {"retention_rules": [{"id": law.world.rule_a.pk}], "override": {"reason": "Rule entered twice."}}
    )
    assert response.status_code == 200, response.json()
    assert not RetentionRule.objects.filter(pk=law.rule.pk).exists()
    deleted = AuditEvent.objects.filter(
        object_type="retention.retentionrule", object_id=str(law.rule.pk), action="delete"
    )
    values = [event.changes for event in deleted if "statutory" in event.changes]
    assert values and values[0]["statutory"] == [True, None] and values[0]["duration_value"] == [10, None]
    assert any(event.changes.get("override_reason") == [None, "Rule entered twice."] for event in deleted)


def test_a_blank_override_reason_is_refused(law):
    response = law.api.patch(law.url, {"retention_rules": [{"id": law.world.rule_a.pk}], "override": {"reason": " "}})
    assert response.status_code == 400
    assert "reason" in response.json()["override"]


def test_a_statutory_rule_that_keeps_nothing_changes_without_override(world):
    rule = RetentionRuleFactory(activity=world.activity_a, trigger="contract_end", duration_value=1, statutory=True)
    record = world.record(external_id="done", contract_ended_on=years_ago(5))
    assert world.api("system_a").post("records/", record).status_code == 201
    url = f"processing-activities/{world.activity_a.pk}/"
    response = world.api("dpo").patch(url, {"retention_rules": [{"id": world.rule_a.pk}]})
    assert response.status_code == 200, response.json()
    assert not RetentionRule.objects.filter(pk=rule.pk).exists()


def test_shortening_a_rule_lists_the_records_that_expire_earlier_and_holds_still_keep_them(world):
    api, url = world.api("dpo"), f"processing-activities/{world.activity_a.pk}/"
    records = [world.record(external_id=f"c-{n}", subject=f"s-{n}", contract_ended_on=years_ago(1)) for n in range(3)]
    records.append(world.record(external_id="recent", subject="s-9", contract_ended_on=TODAY.isoformat()))
    lines = world.api("system_a").post("records/batch/", {"records": records}).json()["results"]
    ids = {line["external_id"]: line["id"] for line in lines}
    held = PersonalDataRecord.objects.get(pk=ids["c-0"])
    legal_hold_place(record=held, reason="Dispute about the invoice", actor=None)
    response = api.patch(
        url, {"retention_rules": [{"id": world.rule_a.pk, "duration": {"value": 6, "unit": "months"}}]}
    )
    assert response.status_code == 200, response.json()
    changes = response.json()["retention_changes"]
    assert changes == {"earlier": 4, "records": sorted(ids.values()), "now_due": 3}
    assert "Dispute" not in str(response.json())
    now = timezone.now()
    retention_enforce(now=now)
    retention_enforce(now=now + dt.timedelta(days=31))
    remaining = set(PersonalDataRecord.objects.values_list("external_id", flat=True))
    assert remaining == {"c-0", "recent"}  # held, and not yet due
    assert LegalHold.objects.in_force().count() == 1


def test_lengthening_a_rule_lists_no_record(world):
    record = world.record(external_id="c-1", contract_ended_on=years_ago(1))
    assert world.api("system_a").post("records/", record).status_code == 201
    url = f"processing-activities/{world.activity_a.pk}/"
    rules = [{"id": world.rule_a.pk, "duration": {"value": 5, "unit": "years"}}]
    response = world.api("dpo").patch(url, {"retention_rules": rules})
    assert response.json()["retention_changes"] == {"earlier": 0, "records": [], "now_due": 0}


def test_ending_or_replacing_an_activity_leaves_its_retention_as_it_was(law):
    expiries, rules = law.expiries(), list(RetentionRule.objects.order_by("pk").values())
    successor = ProcessingActivityFactory(controller=law.world.a, reference="A-09")
    response = law.api.post(f"{law.url}end/", {"ended_on": TODAY.isoformat(), "replaced_by": successor.pk})
    assert response.status_code == 200, response.json()
    assert law.api.delete(law.url).status_code == 204
    assert ProcessingActivity.objects.get(pk=law.world.activity_a.pk).status == "ended"
    assert law.expiries() == expiries
    assert list(RetentionRule.objects.order_by("pk").values()) == rules
    law.sweep_twice()
    assert law.record("kept") is not None and law.record("running") is not None
    # Ended, its statutory rule still guards what it keeps.
    response = law.api.patch(law.url, {"retention_rules": [{"id": law.world.rule_a.pk}]})
    assert response.status_code == 409


def test_purposes_and_sources_sent_in_a_patch_are_whole_rows(world):
    api, url = world.api("dpo"), f"processing-activities/{world.activity_a.pk}/"
    response = api.patch(url, {"purposes": [{"description": "Facturatie", "legal_basis": "legal_obligation"}]})
    assert response.status_code == 200, response.json()
    # Not the English wording of the purpose that was stored at that place.
    assert response.json()["purposes"] == [
        {
            "id": world.activity_a.purposes.get().pk,  # the place's purpose, rewritten whole
            "description": "Facturatie",
            "description_en": "",
            "description_fr": "",
            "legal_basis": "legal_obligation",
            "legitimate_interest": "",
        }
    ]
    for body, field in (
        ({"purposes": [{"description": "Alleen een omschrijving"}]}, "legal_basis"),
        ({"purposes": [{"legal_basis": "contract"}]}, "description"),
        ({"sources": [{"quote": "Een zin."}]}, "statement"),
    ):
        response = api.patch(url, body)
        assert response.status_code == 400, (body, response.json())
        (name,) = body
        assert response.json()[name]["0"][field] == ["This field is required."]
    assert world.activity_a.purposes.get().description == "Facturatie"
