"""What a DPO sees: runs, tombstones, flagged records and holds; lists without personal data."""

import pytest
from django.urls import reverse
from django.utils import timezone

from retention.models import LegalHold, RetentionRun, Tombstone
from retention.services import retention_enforce
from subjects.models import PersonalDataRecord
from tests.support.records import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def swept(world):
    world.rule(action="anonymise", grace_days=0)
    world.rule(action="flag", grace_days=0, activity=world.activity, data_category=world.category, duration_value=2)
    records = [world.record() for _ in range(3)]
    retention_enforce(now=NOW)
    flagged = world.record()
    world.rule(action="delete", grace_days=30, duration_value=3)
    retention_enforce(now=NOW)
    return records, flagged


@pytest.mark.parametrize(
    "url",
    [
        "admin:retention_retentionrun_changelist",
        "admin:retention_tombstone_changelist",
        "admin:retention_legalhold_changelist",
        "admin:retention_legalhold_add",
        "admin:retention_erasurenotice_changelist",
        "admin:subjects_personaldatarecord_changelist",
        "admin:subjects_datasubject_changelist",
    ],
)
def test_retention_pages_render(dpo_client, swept, url):
    assert dpo_client.get(reverse(url)).status_code == 200


def test_change_pages_render(dpo_client, swept):
    record = PersonalDataRecord.objects.first()
    for name, obj in [
        ("retention_retentionrun", RetentionRun.objects.first()),
        ("retention_tombstone", Tombstone.objects.first()),
        ("subjects_personaldatarecord", record),
        ("subjects_datasubject", PersonalDataRecord.objects.exclude(subject=None).first().subject),
    ]:
        assert dpo_client.get(reverse(f"admin:{name}_change", args=[obj.pk])).status_code == 200, name


def test_the_record_list_never_shows_the_payload_but_its_page_does(dpo_client, world):
    world.rule()
    record = world.record(payload={"name": "Marie Dubois", "iban": "BE68539007547034"})
    listing = dpo_client.get(reverse("admin:subjects_personaldatarecord_changelist") + "?status__exact=active")
    assert listing.status_code == 200 and f"/{record.pk}/change/" in listing.content.decode()
    assert "Marie Dubois" not in listing.content.decode() and "BE68539007547034" not in listing.content.decode()
    page = dpo_client.get(reverse("admin:subjects_personaldatarecord_change", args=[record.pk]))
    assert "Marie Dubois" in page.content.decode()


def test_evidence_is_read_only(dpo_client, swept):
    run = RetentionRun.objects.first()
    assert dpo_client.get(reverse("admin:retention_retentionrun_add")).status_code == 403
    assert (
        dpo_client.post(reverse("admin:retention_retentionrun_delete", args=[run.pk]), {"post": "yes"}).status_code
        == 403
    )
    tombstone = Tombstone.objects.first()
    assert (
        dpo_client.post(reverse("admin:retention_tombstone_delete", args=[tombstone.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Tombstone.objects.filter(pk=tombstone.pk).exists()
    record = PersonalDataRecord.objects.first()
    assert (
        dpo_client.post(
            reverse("admin:subjects_personaldatarecord_delete", args=[record.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_editing_a_date_in_the_admin_recomputes_the_expiry(dpo_client, world):
    world.rule(trigger="contract_end")
    record = world.record()
    assert record.expires_at is None
    response = dpo_client.post(
        reverse("admin:subjects_personaldatarecord_change", args=[record.pk]),
        {"collected_on": "2020-01-01", "contract_ended_on": "2021-03-31"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    record.refresh_from_db()
    assert record.contract_ended_on.isoformat() == "2021-03-31"
    assert timezone.localtime(record.expires_at).isoformat() == "2022-04-01T00:00:00+02:00"


def test_a_dpo_places_and_releases_a_hold_in_the_admin(dpo_client, dpo, world):
    response = dpo_client.post(
        reverse("admin:retention_legalhold_add"), {"activity": world.activity.pk, "reason": "Inspection by the DPA"}
    )
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.activity, hold.placed_by, hold.released_at) == (world.activity, dpo, None)
    refused = dpo_client.post(
        reverse("admin:retention_legalhold_add"),
        {"activity": world.activity.pk, "controller": world.controller.pk, "reason": "Two scopes"},
    )
    assert refused.status_code == 200 and LegalHold.objects.count() == 1
    dpo_client.post(
        reverse("admin:retention_legalhold_changelist"),
        {"action": "release_holds", "_selected_action": [hold.pk]},
    )
    hold.refresh_from_db()
    assert hold.released_at is not None and hold.released_by == dpo
    assert dpo_client.get(reverse("admin:retention_legalhold_change", args=[hold.pk])).status_code == 200


def test_the_record_list_has_a_bounded_number_of_queries(dpo_client, world, django_assert_max_num_queries):
    world.rule()
    for _ in range(20):
        world.record()
    url = reverse("admin:subjects_personaldatarecord_changelist")
    dpo_client.get(url)  # the session's first request records it in the user's list of sessions
    # 12, plus the session saved on every request (its idle timeout moves on): one write in a savepoint;
    # plus the user's list of sessions ("last seen", address): a read, the user, a write, in a savepoint.
    with django_assert_max_num_queries(20):
        dpo_client.get(url)
