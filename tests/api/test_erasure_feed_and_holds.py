"""The erasure feed of a source system (oldest first, until confirmed) and legal holds over the API."""

import datetime as dt

import pytest
from django.utils import timezone

from retention.models import ErasureNotice, LegalHold
from retention.services import retention_enforce
from subjects.models import PersonalDataRecord

pytestmark = pytest.mark.django_db


def notice(source_system, external_id, minutes_ago):
    return ErasureNotice.objects.create(
        source_system=source_system,
        external_id=external_id,
        record_id=abs(hash(external_id)) % 10**9,
        action="delete",
        erased_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
    )


def test_the_sweep_erases_and_the_system_reads_then_confirms(world):
    """End to end: registered through the API, erased by the real sweep, read and confirmed by the system."""
    api = world.api("system_b")
    records = [world.record(external_id=f"b-{n}", activity="B-01", collected_on="2020-01-01") for n in range(3)]
    records.append(world.record(external_id="b-new", activity="B-01", collected_on=str(timezone.localdate())))
    assert api.post("records/batch/", {"records": records}).json()["created"] == 4
    now = timezone.now()
    retention_enforce(now=now)  # flags
    retention_enforce(now=now + dt.timedelta(days=31))  # erases after the grace period
    feed = api.get("erasure-feed/").json()
    assert [line["external_id"] for line in feed["results"]] == ["b-0", "b-1", "b-2"]
    assert feed["next"] is None
    assert world.api("system_a").get("erasure-feed/").json()["results"] == []

    response = api.post("erasure-feed/confirm/", {"external_ids": ["b-0", "b-1", "b-9"]})
    assert response.status_code == 200, response.json()
    assert response.json() == {"confirmed": 2, "not_in_feed": ["b-9"]}
    assert [line["external_id"] for line in api.get("erasure-feed/").json()["results"]] == ["b-2"]
    # Confirming again changes nothing.
    assert api.post("erasure-feed/confirm/", {"external_ids": ["b-0"]}).json() == {
        "confirmed": 0,
        "not_in_feed": ["b-0"],
    }
    assert PersonalDataRecord.objects.filter(external_id="b-new").exists()


def test_feed_pages_oldest_first_and_unconfirmed_lines_stay(world):
    for n in range(5):
        notice("crm", f"c-{n}", minutes_ago=100 - n)
    notice("billing", "x-1", minutes_ago=200)
    api = world.api("system_a")
    page = api.get("erasure-feed/", {"page_size": 2}).json()
    assert [line["external_id"] for line in page["results"]] == ["c-0", "c-1"]
    api.post("erasure-feed/confirm/", {"external_ids": ["c-0"]})
    page = api.client.get(page["next"]).json()
    assert [line["external_id"] for line in page["results"]] == ["c-2", "c-3"]
    # Read again from the start: what is not confirmed is still there.
    assert [line["external_id"] for line in api.get("erasure-feed/").json()["results"]] == [
        "c-1",
        "c-2",
        "c-3",
        "c-4",
    ]
    assert ErasureNotice.objects.filter(confirmed_at__isnull=True).count() == 5


def test_only_the_source_system_confirms(world):
    notice("crm", "c-1", minutes_ago=1)
    assert world.api("dpo").post("erasure-feed/confirm/", {"external_ids": ["c-1"]}).status_code == 403
    assert world.api("auditor").get("erasure-feed/").status_code == 403
    assert world.api("system_a_erp").post("erasure-feed/confirm/", {"external_ids": ["c-1"]}).json()["confirmed"] == 0
    assert [
        line["external_id"]
        for line in world.api("dpo").get("erasure-feed/", {"source_system": "crm"}).json()["results"]
    ] == ["c-1"]
    for bad in ({"external_ids": []}, {"external_ids": "c-1"}, {"external_ids": ["x"] * 1001}, {}):
        assert world.api("system_a").post("erasure-feed/confirm/", bad).status_code == 400


def test_dpo_places_and_releases_holds_and_others_read_theirs(world):
    api = world.api("dpo")
    world.api("system_a").post("records/", world.record())
    record = PersonalDataRecord.objects.get()
    placed = [
        api.post("legal-holds/", {"controller": "globex", "reason": "Litigation"}),
        api.post("legal-holds/", {"activity": world.activity_a.pk, "reason": "Audit"}),
        api.post("legal-holds/", {"controller": "acme", "subject": "s-1", "reason": "Request"}),
        api.post("legal-holds/", {"record": record.pk, "reason": "Investigation"}),
    ]
    assert [r.status_code for r in placed] == [201] * 4, [r.json() for r in placed]
    assert [r.json()["scope"] for r in placed] == ["controller", "activity", "subject", "record"]
    assert placed[0].json()["placed_by"] == "api.dpo"
    for bad in (
        {"reason": "No scope"},
        {"activity": world.activity_a.pk, "record": record.pk, "reason": "Two"},
        {"subject": "s-1", "reason": "Whose?"},
        {"controller": "nobody", "reason": "x"},
        {"activity": 99999, "reason": "x"},
        {"controller": "acme", "reason": ""},
    ):
        assert api.post("legal-holds/", bad).status_code == 400, bad
    ids_a = {row["id"] for row in world.api("auditor_a").get("legal-holds/").json()["results"]}
    assert ids_a == {placed[1].json()["id"], placed[2].json()["id"], placed[3].json()["id"]}
    assert {row["id"] for row in world.api("system_b").get("legal-holds/").json()["results"]} == {
        placed[0].json()["id"]
    }
    assert {row["id"] for row in world.api("system_a_erp").get("legal-holds/").json()["results"]} == {
        placed[1].json()["id"],
        placed[2].json()["id"],
    }
    assert world.api("system_b").get(f"legal-holds/{placed[1].json()['id']}/").status_code == 404
    assert world.api("auditor").post("legal-holds/", {"controller": "acme", "reason": "x"}).status_code == 403

    released = api.post(f"legal-holds/{placed[0].json()['id']}/release/", {"reason": "Settled"})
    assert released.status_code == 200
    assert (released.json()["in_force"], released.json()["release_reason"]) == (False, "Settled")
    assert LegalHold.objects.in_force().count() == 3
