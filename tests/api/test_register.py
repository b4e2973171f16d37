"""The register over the API: nested activities in codes, writes through the services with their field
messages as 400s, DELETE that ends, and list endpoints whose query count does not grow with the page."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processing.models import Controller, ProcessingActivity, Purpose
from retention.models import RetentionRule
from tests.factories import ProcessingActivityFactory, PurposeFactory, RecipientFactory, RetentionRuleFactory

pytestmark = pytest.mark.django_db


def activity_body(world, **overrides):
    body = {
        "controller": "acme",
        "reference": "A-02",
        "name": "Nieuwsbrief",
        "name_en": "Newsletter",
        "purposes": [
            {"description": "Nieuwsbrief versturen", "legal_basis": "consent"},
            {
                "description": "Direct marketing",
                "legal_basis": "legitimate_interests",
                "legitimate_interest": "Informing existing customers of similar services",
            },
        ],
        "data_subject_categories": ["customers"],
        "data_categories": ["contact-data"],
        "recipients": ["mailer"],
        "security_measures": ["encryption"],
        "retention_rules": [
            {"duration": {"value": 2, "unit": "years"}, "trigger": "consent_withdrawn", "action": "delete"},
            {"duration": None, "trigger": "relevance_end", "action": "flag", "data_category": "contact-data"},
        ],
        "sources": [{"statement": "acme.txt", "quote": "We send a newsletter."}],
    }
    body.update(overrides)
    return body


def test_activity_reads_nested_in_codes(world):
    response = world.api("dpo").get(f"processing-activities/{world.activity_a.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert data["controller"] == "acme"
    assert data["purposes"][0]["legal_basis"] == "contract"
    assert data["data_categories"] == ["contact-data"]
    assert data["data_subject_categories"] == ["customers"]
    assert data["security_measures"] == ["encryption"]
    assert data["retention_rules"][0]["duration"] == {"value": 2, "unit": "years"}
    assert data["retention_rules"][0]["text"] == "Deleted 2 years after the end of the contract."


def test_create_nested_activity_goes_through_services_and_is_audited(world):
    response = world.api("dpo").post("processing-activities/", activity_body(world))
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["recipients"] == ["mailer"]
    assert data["transfers"] == [
        {
            "recipient": "mailer",
            "name": world.recipient_a.name,
            "country": "US",
            "safeguard": "scc",
            "safeguard_note": "",
        }
    ]
    assert [r["text"] for r in data["retention_rules"]] == [
        "Deleted 2 years after the withdrawal of consent.",
        "Flagged for review when the data is no longer relevant (no fixed period).",
    ]
    activity = ProcessingActivity.objects.get(pk=data["id"])
    assert activity.history.latest().history_user.username == "api.dpo"
    assert activity.purposes.count() == 2


def test_recipient_by_id_or_key(world):
    other = RecipientFactory(controller=world.a, key="host")
    body = activity_body(world, recipients=["mailer", other.pk])
    response = world.api("dpo").post("processing-activities/", body)
    assert response.status_code == 201, response.json()
    assert sorted(response.json()["recipients"]) == ["host", "mailer"]


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        (
            {"purposes": [{"description": "Marketing", "legal_basis": "legitimate_interests"}]},
            "purposes",
            "legitimate interest",
        ),
        ({"purposes": [{"description": "x", "legal_basis": "because"}]}, "purposes", "not a valid choice"),
        ({"purposes": []}, "purposes", "may not be empty"),
        ({"data_categories": ["no-such-code"]}, "data_categories", "Unknown code “no-such-code”"),
        ({"data_categories": ["health-data"], "retention_rules": []}, "art9_condition", "Art. 9(2) condition"),
        ({"recipients": ["printer"]}, "recipients", "No recipient “printer” under controller “acme”"),
        ({"role": "processor"}, "client", "client controller"),
        ({"status": "ended"}, "ended_on", "end date"),
        ({"ended_on": "2020-01-01"}, "ended_on", "active activity"),
        ({"retention_rules": [{"trigger": "collection", "statutory": True}]}, "retention_rules", "flag for review"),
        ({"retention_rules": [{"trigger": "whenever"}]}, "retention_rules", "not a valid choice"),
        (
            {"retention_rules": [{"trigger": "collection", "data_category": "health-data"}]},
            "retention_rules",
            "not among the activity's data categories",
        ),
        ({"dpia_done_on": "9999-12-31"}, "dpia_done_on", "between 1900-01-01 and 2199-12-31"),
        ({"name": "nul\u0000byte"}, "name", "Null characters"),
        ({"minimum_age": "twelve"}, "minimum_age", "valid integer"),
    ],
)
def test_bad_activity_is_a_400_naming_the_field_and_writes_nothing(world, overrides, field, fragment):
    before = (ProcessingActivity.objects.count(), Purpose.objects.count(), RetentionRule.objects.count())
    response = world.api("dpo").post("processing-activities/", activity_body(world, **overrides))
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert fragment in str(errors[field]), errors
    assert (ProcessingActivity.objects.count(), Purpose.objects.count(), RetentionRule.objects.count()) == before


def test_put_replaces_lists_and_keeps_rules_by_id(world):
    api = world.api("dpo")
    current = api.get(f"processing-activities/{world.activity_a.pk}/").json()
    rule = current["retention_rules"][0]
    current["retention_rules"] = [
        {**rule, "duration": {"value": 5, "unit": "years"}},
        {
            "trigger": "collection",
            "duration": {"value": 1, "unit": "months"},
            "statutory": False,
            "maximum": False,
            "action": "delete",
            "grace_days": 30,
        },
    ]
    current["purposes"] = [{"description": "Nieuw doel", "legal_basis": "legal_obligation"}]
    current["recipients"] = []
    response = api.put(f"processing-activities/{world.activity_a.pk}/", current)
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["retention_rules"][0]["id"] == rule["id"]
    assert data["retention_rules"][0]["duration"] == {"value": 5, "unit": "years"}
    assert len(data["retention_rules"]) == 2
    assert [p["legal_basis"] for p in data["purposes"]] == ["legal_obligation"]
    assert data["recipients"] == []


def test_patch_changes_only_what_is_sent(world):
    response = world.api("dpo").patch(f"processing-activities/{world.activity_a.pk}/", {"owner": "Sales"})
    assert response.status_code == 200, response.json()
    world.activity_a.refresh_from_db()
    assert world.activity_a.owner == "Sales"
    assert world.activity_a.purposes.count() == 1
    assert world.activity_a.retention_rules.count() == 1


def test_activity_cannot_move_to_another_controller(world):
    response = world.api("dpo").patch(f"processing-activities/{world.activity_a.pk}/", {"controller": "globex"})
    assert response.status_code == 400
    assert "controller" in response.json()


def test_delete_ends_the_activity_and_never_destroys_it(world, today):
    api = world.api("dpo")
    assert api.delete(f"processing-activities/{world.activity_a.pk}/").status_code == 204
    world.activity_a.refresh_from_db()
    assert (world.activity_a.status, world.activity_a.ended_on) == ("ended", today)
    assert api.delete(f"processing-activities/{world.activity_a.pk}/").status_code == 204
    assert api.get(f"processing-activities/{world.activity_a.pk}/").json()["status"] == "ended"


def test_end_with_date_and_successor(world):
    successor = ProcessingActivityFactory(controller=world.a, reference="A-09")
    response = world.api("dpo").post(
        f"processing-activities/{world.activity_a.pk}/end/", {"ended_on": "2025-03-31", "replaced_by": successor.pk}
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["ended_on"], response.json()["replaced_by"]) == ("2025-03-31", successor.pk)
    other = world.api("dpo").post(f"processing-activities/{successor.pk}/end/", {"replaced_by": world.activity_b.pk})
    assert other.status_code == 400


def test_controller_write_checks_enterprise_number(world):
    api = world.api("dpo")
    response = api.patch(f"controllers/{world.a.pk}/", {"enterprise_number": "BE0653.989.639"})
    assert response.status_code == 400
    assert "check digits" in str(response.json()["enterprise_number"])
    response = api.post("controllers/", {"key": "initech", "name": "Initech BV", "country": "NL"})
    assert response.status_code == 201, response.json()
    assert Controller.objects.get(key="initech").history.latest().history_user.username == "api.dpo"


def test_a_controller_names_a_dpo_or_why_none_is_designated_never_both(world):
    """One rule (processing/rules.py) behind the model's clean (the admin's form) and the API."""
    expected = "A DPO is named: leave empty why none is designated, or remove the DPO."
    world.a.dpo_name, world.a.dpo_not_required = "An Peeters", "Not a public body."
    with pytest.raises(ValidationError) as refused:
        world.a.full_clean()
    assert refused.value.message_dict["dpo_not_required"] == [expected]

    api = world.api("dpo")
    response = api.patch(f"controllers/{world.a.pk}/", {"dpo_name": "An Peeters", "dpo_not_required": "Not needed."})
    assert response.status_code == 400 and response.json()["dpo_not_required"] == [expected]
    response = api.patch(f"controllers/{world.a.pk}/", {"dpo_not_required": "Not a public body; no core monitoring."})
    assert response.status_code == 200 and response.json()["dpo_not_required"].startswith("Not a public body")
    response = api.patch(f"controllers/{world.a.pk}/", {"dpo_email": "dpo@acme.example"})
    assert response.status_code == 400 and response.json()["dpo_not_required"] == [expected]
    world.a.refresh_from_db()
    assert (world.a.dpo_email, world.a.dpo_name) == ("", "")


def test_recipient_outside_eea_needs_a_safeguard(world):
    api = world.api("dpo")
    body = {"controller": "acme", "key": "cloud", "name": "Cloud Inc", "kind": "processor", "country": "US"}
    response = api.post("recipients/", body)
    assert response.status_code == 400
    assert "safeguard" in response.json()
    response = api.post("recipients/", {**body, "safeguard": "scc"})
    assert response.status_code == 201, response.json()
    assert response.json()["inside_eea"] is False


def test_vocabulary_by_code_and_filters(world):
    api = world.api("auditor")
    response = api.get("data-categories/", {"special_category": "true"})
    assert [row["code"] for row in response.json()["results"]] == ["health-data"]
    response = api.get("processing-activities/", {"controller": "globex"})
    assert [row["reference"] for row in response.json()["results"]] == ["B-01"]
    response = api.get("processing-activities/", {"third_country": "true"})
    assert response.json()["results"] == []
    world.activity_a.recipients.add(world.recipient_a)
    response = api.get("processing-activities/", {"third_country": "true", "legal_basis": "contract"})
    assert [row["reference"] for row in response.json()["results"]] == ["A-01"]
    assert api.get("processing-activities/", {"legal_basis": "nonsense"}).status_code == 400


def test_auditor_and_system_see_only_their_controllers(world):
    assert [c["key"] for c in world.api("auditor_a").get("controllers/").json()["results"]] == ["acme"]
    assert [c["key"] for c in world.api("system_b").get("controllers/").json()["results"]] == ["globex"]
    assert world.api("system_b").get(f"processing-activities/{world.activity_a.pk}/").status_code == 404
    assert len(world.api("auditor").get("controllers/").json()["results"]) == 2


@pytest.mark.parametrize(
    "path", ["processing-activities/", "controllers/", "recipients/", "data-categories/", "legal-holds/"]
)
def test_list_query_count_does_not_grow_with_rows(world, path, django_assert_max_num_queries):
    api = world.api("dpo")
    with CaptureQueriesContext(connection) as few:
        assert api.get(path).status_code == 200
    for _n in range(12):
        activity = ProcessingActivityFactory(controller=world.a)
        PurposeFactory(activity=activity)
        RetentionRuleFactory(activity=activity)
        activity.recipients.add(RecipientFactory(controller=world.a))
        activity.data_categories.add(world.category)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert api.get(path).status_code == 200
    with django_assert_max_num_queries(14):
        assert api.get(path).status_code == 200
