"""Records for internal systems: idempotent registration (one or a batch of 1,000), all-or-nothing
batches with field messages, trigger-date updates, lookups, keyset pages, and the limits."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from subjects.models import DataSubject, PersonalDataRecord

pytestmark = pytest.mark.django_db


def test_register_one_then_again_creates_nothing(world):
    api = world.api("system_a")
    first = api.post("records/", world.record())
    assert first.status_code == 201, first.json()
    assert first.json()["created"] is True
    again = api.post("records/", world.record())
    assert again.status_code == 200
    assert again.json() == {**first.json(), "created": False, "outcome": "unchanged"}
    record = PersonalDataRecord.objects.get()
    assert (record.source_system, record.external_id, record.subject.key) == ("crm", "c-1", "s-1")
    assert record.expires_at is None  # the contract has not ended


def test_batch_of_1000_is_idempotent_and_says_which_were_new(world, django_assert_max_num_queries):
    api = world.api("system_a")
    records = [world.record(external_id=f"c-{n}", subject=f"s-{n % 300}") for n in range(1000)]
    with django_assert_max_num_queries(40):
        response = api.post("records/batch/", {"records": records[:600]})
    assert response.status_code == 200, response.json()
    assert (response.json()["created"], response.json()["existing"]) == (600, 0)
    response = api.post("records/batch/", {"records": records})
    assert (response.json()["created"], response.json()["existing"]) == (400, 600)
    assert (response.json()["updated"], response.json()["unchanged"]) == (0, 600)
    assert [r["created"] for r in response.json()["results"]][598:602] == [False, False, True, True]
    assert [r["external_id"] for r in response.json()["results"]] == [r["external_id"] for r in records]
    assert PersonalDataRecord.objects.count() == 1000
    assert DataSubject.objects.count() == 300


def test_retry_with_a_changed_date_updates_through_the_service(world):
    api = world.api("system_a")
    api.post("records/", world.record())
    response = api.post("records/batch/", {"records": [world.record(contract_ended_on="2024-06-30")]})
    assert (response.json()["existing"], response.json()["updated"]) == (1, 1)
    assert response.json()["results"][0]["outcome"] == "updated"
    record = PersonalDataRecord.objects.get()
    assert record.contract_ended_on == dt.date(2024, 6, 30)
    assert timezone.localtime(record.expires_at).date() == dt.date(2026, 7, 1)  # 2 years after the contract ended


def test_batch_with_one_bad_record_writes_nothing_and_names_it(world):
    records = [world.record(external_id=f"c-{n}") for n in range(5)]
    records[3]["data_category"] = "no-such-code"
    records[4]["collected_on"] = "2024-02-30"
    response = world.api("system_a").post("records/batch/", {"records": records})
    assert response.status_code == 400
    errors = response.json()["records"]
    assert set(errors) == {"4"}  # the shape is checked first, the codes after
    assert "collected_on" in errors["4"]
    records[4]["collected_on"] = "2024-02-28"
    errors = world.api("system_a").post("records/batch/", {"records": records}).json()["records"]
    assert set(errors) == {"3"}
    assert "Unknown code" in errors["3"]["data_category"][0]
    assert PersonalDataRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"external_id": 12}, "external_id", "valid string"),
        ({"external_id": "x" * 201}, "external_id", "no more than 200"),
        ({"external_id": "nul\u0000"}, "external_id", "Null characters"),
        ({"payload": {"name": "nul\u0000"}}, "payload", "Null characters"),
        ({"payload": {"bad\u0000key": 1}}, "payload", "Null characters"),
        ({"collected_on": "10000-01-01"}, "collected_on", "Use YYYY-MM-DD."),
        ({"collected_on": "1800-01-01"}, "collected_on", "between 1900-01-01"),
        ({"contract_end_on": "2024-01-01"}, "contract_end_on", "Unknown field"),
        ({"activity": "B-01"}, "activity", "No activity “B-01”"),
        ({"activity": True}, "activity", "activity id or reference"),
        ({"retention_rule": 999999}, "retention_rule", "No retention rule"),
        ({"subject": None}, "subject", "may not be null"),
        ({"subject_identifiers": ["x"]}, "subject_identifiers", "object"),
    ],
)
def test_bad_record_is_a_400_naming_the_field(world, change, field, fragment):
    response = world.api("system_a").post("records/", world.record(**change))
    assert response.status_code == 400
    assert fragment in json.dumps(response.json()[field], ensure_ascii=False), response.json()
    assert PersonalDataRecord.objects.count() == 0


def test_oversized_batch_and_body(world, settings):
    api = world.api("system_a")
    records = [world.record(external_id=f"c-{n}") for n in range(1001)]
    response = api.post("records/batch/", {"records": records})
    assert response.status_code == 400
    assert "1000" in str(response.json()["records"])
    settings.ROPA_API_MAX_BODY_BYTES = 1000
    response = api.post("records/batch/", {"records": records[:50]})
    assert response.status_code == 413
    assert PersonalDataRecord.objects.count() == 0


def test_malformed_json_is_a_400(world):
    client = world.api("system_a").client
    too_big = json.dumps(world.record()).replace('"payload": {"name": "Jan Peeters"}', '"payload": 1e400')
    for body in ("{", '{"a": NaN}', "[" * 100000 + "]" * 100000, b"\xff\xfe", too_big):
        response = client.post("/api/v1/records/", body, content_type="application/json")
        assert response.status_code == 400, body[:10]


def test_update_trigger_dates_recomputes_expiry(world):
    api = world.api("system_a")
    record_id = api.post("records/", world.record()).json()["id"]
    response = api.patch(f"records/{record_id}/", {"contract_ended_on": "2025-01-31"})
    assert response.status_code == 200, response.json()
    assert response.json()["contract_ended_on"] == "2025-01-31"
    assert response.json()["expires_at"].startswith("2027-02-01")
    assert api.patch(f"records/{record_id}/", {"contract_ended_on": "someday"}).status_code == 400
    assert api.patch(f"records/{record_id}/", {"expires_at": "2020-01-01T00:00:00Z"}).status_code == 400
    assert api.patch(f"records/{record_id}/", {"contract_ended_on": None}).json()["expires_at"] is None


def test_lookup_by_subject_and_external_id_in_keyset_pages(world):
    api = world.api("system_a")
    records = [world.record(external_id=f"c-{n}", subject="jan" if n % 2 else "an") for n in range(7)]
    api.post("records/batch/", {"records": records})
    page = api.get("records/", {"subject": "jan", "page_size": 2}).json()
    seen = [r["external_id"] for r in page["results"]]
    while page["next"]:
        page = api.client.get(page["next"]).json()
        seen += [r["external_id"] for r in page["results"]]
    assert seen == ["c-1", "c-3", "c-5"]
    assert [r["external_id"] for r in api.get("records/", {"external_id": "c-4"}).json()["results"]] == ["c-4"]
    assert api.get("records/", {"cursor": "not-a-cursor"}).status_code == 400
    assert api.get("records/", {"page_size": 0}).status_code == 400


def test_a_system_never_sees_another_systems_or_controllers_records(world):
    world.api("system_a").post("records/", world.record())
    world.api("system_b").post("records/", world.record(external_id="b-1", activity="B-01"))
    record_a = PersonalDataRecord.objects.get(source_system="crm")
    for other in ("system_a_erp", "system_b"):
        api = world.api(other)
        assert api.get(f"records/{record_a.pk}/").status_code == 404
        assert api.patch(f"records/{record_a.pk}/", {"contract_ended_on": "2025-01-01"}).status_code == 404
        assert "c-1" not in json.dumps(api.get("records/").json())
    # The same external id from another system is another record.
    assert world.api("system_a_erp").post("records/", world.record()).status_code == 201
    assert world.api("system_b").post("records/", world.record(activity=world.activity_a.pk)).status_code == 400


def test_auditor_reads_records_without_payload(world):
    world.api("system_a").post("records/", world.record())
    row = world.api("auditor").get("records/").json()["results"][0]
    assert "payload" not in row
    assert world.api("dpo").get("records/").json()["results"][0]["payload"] == {"name": "Jan Peeters"}


def test_record_list_query_count_is_independent_of_page_size(world, django_assert_max_num_queries):
    api = world.api("system_a")
    api.post("records/batch/", {"records": [world.record(external_id=f"c-{n}") for n in range(120)]})
    for size in (5, 100):
        with django_assert_max_num_queries(4):
            assert len(api.get("records/", {"page_size": size}).json()["results"]) == size


def test_subject_identifiers_are_stored_and_replaced(world):
    api = world.api("system_a")
    api.post("records/", world.record(subject_identifiers={"customer": "C-1"}))
    assert DataSubject.objects.get(key="s-1").identifiers == {"customer": "C-1"}
    api.post("records/", world.record(external_id="c-2", subject_identifiers={"customer": "C-9"}))
    assert DataSubject.objects.get(key="s-1").identifiers == {"customer": "C-9"}
