"""The DPO's decision on records a flag-only rule flagged: erase now (through the one eraser), keep until a
day (then flagged again), or hold; per record and in bulk from the review queue, each decision recorded
and audited without personal data, and the queue never promising an erasure date that cannot come."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from retention.models import ErasureNotice, LegalHold, RetentionRule, RetentionRun, Tombstone
from retention.review import (
    flagged_record_erase,
    flagged_record_hold,
    flagged_record_keep_until,
    flagged_records_erase,
)
from retention.selectors import tombstone_chain_problems
from retention.services import legal_hold_place, retention_enforce
from ropa.audit.models import AuditEvent
from subjects.choices import RecordStatus
from subjects.models import DataSubject, PersonalDataRecord, ReviewDecision
from tests.auth import login_verified
from tests.factories import DataSubjectFactory

pytestmark = pytest.mark.django_db

QUEUE = "retention-review"


@pytest.fixture
def flag_only(world):
    """Three records flagged a year and more after collection by a rule that only flags, and one record
    flagged by a rule that erases by itself (another activity); all flagged by a sweep now."""
    world.flag_rule = world.rule(action="flag", grace_days=30)
    world.people = [
        DataSubjectFactory(controller=world.controller, identifiers={"email": f"p{i}@example.be"}) for i in range(3)
    ]
    world.flagged = [world.record(subject=person, now=timezone.now()) for person in world.people]
    from tests.factories import ProcessingActivityFactory

    world.other = ProcessingActivityFactory(controller=world.controller)
    world.erase_rule = world.rule(activity=world.other, action="delete", grace_days=30)
    world.erasing = world.record(activity=world.other, now=timezone.now())
    retention_enforce(now=timezone.now())
    assert set(PersonalDataRecord.objects.values_list("status", flat=True)) == {RecordStatus.FLAGGED}
    return world


def group_key(record):
    return f"{record.activity_id}:{record.expiry_rule_id}"


# --- the queue shows no date that cannot come ----------------------------------------------------------


def test_the_queue_says_a_flag_only_record_awaits_a_decision_instead_of_an_erasure_date(dpo_client, flag_only):
    response = dpo_client.get(reverse(QUEUE))
    html = response.content.decode()
    groups = {group["key"]: group for group in response.context["groups"]}
    waiting, erasing = groups[group_key(flag_only.flagged[0])], groups[group_key(flag_only.erasing)]
    assert not waiting["erases"] and erasing["erases"]
    section = html[html.index(f'id="group-{waiting["key"]}'.replace(":", "")) :]
    section = section[: section.index("</table>")]
    assert "await your decision" in section and "awaits your decision" in section
    assert "erasure from" not in section  # the date the sweep would never keep
    other = html[html.index(f'id="group-{erasing["key"]}'.replace(":", "")) :]
    assert "erasure from" in other[: other.index("</table>")]
    # The decisions are offered.
    assert 'value="erase"' in html and 'value="keep"' in html and 'value="hold"' in html


def test_letting_erasure_proceed_tells_that_a_flag_only_rule_needs_a_decision(dpo_client, flag_only):
    url = reverse(QUEUE)
    response = dpo_client.post(
        url, {"action": "release", "group": [group_key(flag_only.flagged[0])], "confirm": "1"}, follow=True
    )
    text = response.content.decode()
    assert "Erasure approved for 0 record(s)" in text and "Erase now" in text and "Keep until" in text


# --- erase now -----------------------------------------------------------------------------------------


def test_erase_now_from_the_queue_deletes_through_the_one_eraser_with_evidence(dpo_client, dpo, flag_only):
    url = reverse(QUEUE)
    group = group_key(flag_only.flagged[0])
    confirm = dpo_client.post(url, {"action": "erase", "group": [group]})
    assert confirm.status_code == 200 and "3 flagged records" in confirm.content.decode()
    missing = dpo_client.post(url, {"action": "erase", "group": [group], "confirm": "1", "reason": "  "})
    assert missing.status_code == 200 and PersonalDataRecord.objects.filter(activity=flag_only.activity).count() == 3
    done = dpo_client.post(
        url, {"action": "erase", "group": [group], "confirm": "1", "reason": "Purpose ended, no legal need"}
    )
    assert done.status_code == 302
    ids = sorted(record.pk for record in flag_only.flagged)
    assert not PersonalDataRecord.objects.filter(pk__in=ids).exists()
    run = RetentionRun.objects.get(origin="review")
    assert (run.deleted, run.anonymised, run.status, run.controller_id) == (3, 0, "finished", flag_only.controller.pk)
    assert run.counts == {str(flag_only.flag_rule.pk): {"delete": 3}}
    tombstones = Tombstone.objects.filter(run=run)
    assert sorted(tombstones.values_list("record_id", flat=True)) == ids
    assert set(tombstones.values_list("rule_id", "action")) == {(flag_only.flag_rule.pk, "delete")}
    assert list(tombstone_chain_problems()) == []
    assert sorted(ErasureNotice.objects.values_list("record_id", flat=True)) == ids
    decisions = ReviewDecision.objects.filter(record_id__in=ids)
    assert {(d.decision, d.run_id, d.decided_by, d.reason) for d in decisions} == {
        ("erase", run.pk, dpo, "Purpose ended, no legal need")
    }
    # Audited: the decision per record, ids and field names, never the reason.
    events = AuditEvent.objects.filter(object_type="subjects.reviewdecision")
    assert events.count() == 3 and set(events.values_list("action", flat=True)) == {"erasure"}
    assert all(event.changes["run_id"] == [None, run.pk] for event in events)
    assert "Purpose ended" not in str(list(AuditEvent.objects.values()))
    # The subjects had nothing else: they are forgotten with their last record.
    assert (
        list(DataSubject.objects.filter(pk__in=[p.pk for p in flag_only.people]).values_list("identifiers", flat=True))
        == [{}] * 3
    )
    # The decisions stay as evidence, found by the erased record's id.
    listing = dpo_client.get(reverse("admin:subjects_reviewdecision_changelist"), {"q": ids[0]})
    assert listing.status_code == 200 and listing.context["cl"].result_count == 1
    page = dpo_client.get(reverse("admin:subjects_reviewdecision_change", args=[decisions.first().pk]))
    assert page.status_code == 200 and "Purpose ended, no legal need" in page.content.decode()
    # The record that erases by itself is left to its grace period.
    assert PersonalDataRecord.objects.get(pk=flag_only.erasing.pk).status == RecordStatus.FLAGGED


def test_erase_now_refuses_held_records_and_rules_that_erase_by_themselves(dpo_client, dpo, flag_only):
    held, free, _third = flag_only.flagged
    hold = legal_hold_place(record=held, reason="Dispute", actor=dpo)
    with pytest.raises(ValidationError) as error:
        flagged_record_erase(record=held, reason="No longer needed", actor=dpo)
    assert "legal hold" in str(error.value)
    with pytest.raises(ValidationError) as error:
        flagged_record_erase(record=flag_only.erasing, reason="No longer needed", actor=dpo)
    assert "erases by itself" in str(error.value)
    assert PersonalDataRecord.objects.filter(pk__in=[held.pk, flag_only.erasing.pk]).count() == 2
    assert not RetentionRun.objects.filter(origin="review").exists() and not ReviewDecision.objects.exists()
    # In bulk, from the queue: the held one is refused and said so, the free ones go.
    response = dpo_client.post(
        reverse(QUEUE),
        {"action": "erase", "group": [group_key(free)], "confirm": "1", "reason": "No longer needed"},
        follow=True,
    )
    assert "2 record(s) erased now" in response.content.decode() and "1 under a legal hold" in response.content.decode()
    assert PersonalDataRecord.objects.filter(pk=held.pk, status=RecordStatus.FLAGGED).exists()
    assert hold.released_at is None


def test_erase_now_refuses_a_record_a_statutory_minimum_still_keeps(dpo, flag_only):
    record = flag_only.flagged[0]
    # A statutory rule written past the services and their signals (so the stored expiry is stale, as in a
    # race with a rule edit): the decision re-checks under its lock.
    (statutory,) = RetentionRule.objects.bulk_create(
        [
            RetentionRule(
                activity=flag_only.activity,
                trigger="collection",
                duration_value=50,
                duration_unit="years",
                action="flag",
                statutory=True,
                legal_reference="Archive law",
            )
        ]
    )
    outcome = flagged_records_erase(
        records=PersonalDataRecord.objects.filter(pk=record.pk), reason="No longer needed", actor=dpo
    )
    assert (outcome.done, outcome.refused) == (0, {"statutory": [record.pk]})
    assert PersonalDataRecord.objects.filter(pk=record.pk).exists()
    RetentionRule.objects.filter(pk=statutory.pk).update(statutory=False)  # the stale rule made right again
    decision = flagged_record_erase(record=record, reason="No longer needed", actor=dpo)
    assert decision.decision == "erase" and not PersonalDataRecord.objects.filter(pk=record.pk).exists()


def test_a_record_page_offers_the_decisions_and_opens_their_confirmation(dpo_client, flag_only):
    record = flag_only.flagged[0]
    page = dpo_client.get(reverse("admin:subjects_personaldatarecord_change", args=[record.pk])).content.decode()
    for action in ("erase", "keep", "hold"):
        assert f"?action={action}&amp;record={record.pk}" in page
    confirm = dpo_client.get(reverse(QUEUE), {"action": "erase", "record": record.pk})
    assert confirm.status_code == 200 and "admin/retention/review_confirm.html" in [t.name for t in confirm.templates]
    assert PersonalDataRecord.objects.filter(pk=record.pk).exists()  # a GET only asks
    done = dpo_client.post(
        reverse(QUEUE) + f"?action=erase&record={record.pk}",
        {"action": "erase", "record": [record.pk], "confirm": "1", "reason": "Asked by the business owner"},
    )
    assert done.status_code == 302 and done.url == reverse(QUEUE)
    assert not PersonalDataRecord.objects.filter(pk=record.pk).exists()
    # An erasing rule's record offers only the hold (its grace period runs).
    page = dpo_client.get(
        reverse("admin:subjects_personaldatarecord_change", args=[flag_only.erasing.pk])
    ).content.decode()
    assert "?action=hold&amp;" in page and "?action=erase&amp;" not in page


def test_an_auditor_cannot_decide(client, django_user_model, flag_only):
    from ropa.access.groups import ensure_groups

    ensure_groups()
    auditor = django_user_model.objects.create_user("auditor", password="a-long-test-password", is_staff=True)
    from django.contrib.auth.models import Group

    auditor.groups.add(Group.objects.get(name="Auditor"))
    login_verified(client, auditor)
    record = flag_only.flagged[0]
    for action in ("erase", "keep"):
        response = client.post(
            reverse(QUEUE),
            {"action": action, "record": [record.pk], "confirm": "1", "reason": "x", "until": "2099-01-01"},
        )
        assert response.status_code == 403
    assert PersonalDataRecord.objects.get(pk=record.pk).status == RecordStatus.FLAGGED
    # The decisions are there to read, without their reasons (the DPO's).
    decision = flagged_record_keep_until(
        record=record, until=timezone.localdate() + dt.timedelta(days=5), reason="Secret reason", actor=None
    )
    for url in (
        reverse("admin:subjects_reviewdecision_change", args=[decision.pk]),
        reverse("admin:subjects_personaldatarecord_change", args=[record.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200 and "Secret reason" not in response.content.decode(), url
    assert "kept until a date" in response.content.decode()


# --- keep until a day ----------------------------------------------------------------------------------


def test_keep_until_takes_the_record_out_of_the_queue_until_the_sweep_flags_it_again(dpo_client, dpo, flag_only):
    record, other, _third = flag_only.flagged
    until = timezone.localdate() + dt.timedelta(days=90)
    url = reverse(QUEUE)
    confirm = dpo_client.post(url, {"action": "keep", "record": [record.pk]})
    assert confirm.status_code == 200 and 'type="date"' in confirm.content.decode()
    no_day = dpo_client.post(url, {"action": "keep", "record": [record.pk], "confirm": "1", "reason": "Audit"})
    assert no_day.status_code == 200
    assert PersonalDataRecord.objects.get(pk=record.pk).status == RecordStatus.FLAGGED
    done = dpo_client.post(
        url,
        {
            "action": "keep",
            "record": [record.pk],
            "confirm": "1",
            "reason": "Tax audit pending",
            "until": until.isoformat(),
        },
    )
    assert done.status_code == 302
    kept = PersonalDataRecord.objects.get(pk=record.pk)
    assert (kept.status, kept.flagged_at, kept.erase_after) == (RecordStatus.ACTIVE, None, None)
    assert timezone.localtime(kept.kept_until).date() == until and timezone.localtime(kept.kept_until).hour == 0
    decision = ReviewDecision.objects.get(record_id=record.pk)
    assert (decision.decision, decision.kept_until, decision.decided_by) == ("keep", until, dpo)
    event = AuditEvent.objects.get(object_type="subjects.reviewdecision", object_id=str(decision.pk))
    assert event.changes["kept_until"] == [None, until.isoformat()] and "Tax audit" not in str(event.changes)
    # Out of the queue now; the record's page shows the decision and its reason (to the DPO).
    groups = dpo_client.get(url).context["groups"]
    assert record.pk not in {r.pk for group in groups for r in group["records"]}
    page = dpo_client.get(reverse("admin:subjects_personaldatarecord_change", args=[record.pk])).content.decode()
    assert "Tax audit pending" in page and "kept until a date" in page
    # Sweeps before the day leave it alone (and its expiry is long past); the first on the day flags it.
    eve = timezone.make_aware(dt.datetime.combine(until, dt.time(23, 0))) - dt.timedelta(days=1)
    assert retention_enforce(now=eve).flagged == 0
    assert PersonalDataRecord.objects.get(pk=record.pk).status == RecordStatus.ACTIVE
    assert retention_enforce(now=kept.kept_until).flagged == 1
    again = PersonalDataRecord.objects.get(pk=record.pk)
    assert (again.status, again.flagged_at, again.kept_until) == (RecordStatus.FLAGGED, kept.kept_until, None)
    assert PersonalDataRecord.objects.get(pk=other.pk).status == RecordStatus.FLAGGED


def test_keep_until_refuses_a_day_not_ahead_and_records_not_awaiting_a_decision(dpo, flag_only):
    record = flag_only.flagged[0]
    today = timezone.localdate()
    for until, field in ((today, "until"), (today - dt.timedelta(days=1), "until"), ("2031-01-01", "until")):
        with pytest.raises(ValidationError) as error:
            flagged_record_keep_until(record=record, until=until, reason="Audit", actor=dpo)
        assert field in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        flagged_record_keep_until(record=record, until=today + dt.timedelta(days=30), reason=" ", actor=dpo)
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        flagged_record_keep_until(
            record=flag_only.erasing, until=today + dt.timedelta(days=30), reason="Audit", actor=dpo
        )
    assert "erases by itself" in str(error.value)
    assert not ReviewDecision.objects.exists()
    assert set(PersonalDataRecord.objects.values_list("status", flat=True)) == {RecordStatus.FLAGGED}


# --- hold ----------------------------------------------------------------------------------------------


def test_a_hold_decided_in_the_queue_is_a_legal_hold_and_a_decision(dpo_client, dpo, flag_only):
    record = flag_only.flagged[0]
    done = dpo_client.post(
        reverse(QUEUE), {"action": "hold", "record": [record.pk], "confirm": "1", "reason": "Litigation"}
    )
    assert done.status_code == 302
    hold = LegalHold.objects.get(record=record)
    decision = ReviewDecision.objects.get(record_id=record.pk)
    assert (decision.decision, decision.hold_id, decision.reason) == ("hold", hold.pk, "Litigation")
    with pytest.raises(ValidationError) as error:
        flagged_record_hold(record=record, reason="Again", actor=dpo)
    assert "legal hold" in str(error.value)
    later = retention_enforce(now=timezone.now() + dt.timedelta(days=400))
    assert later.deleted == 1  # the erasing rule's record, not the held one
    assert PersonalDataRecord.objects.filter(pk=record.pk, status=RecordStatus.FLAGGED).exists()


def test_the_flagging_mail_says_a_flag_only_record_awaits_a_decision(
    world, dpo_mail, django_capture_on_commit_callbacks
):
    from django.core import mail

    world.rule(action="flag")
    world.record(now=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_enforce(now=timezone.now()).flagged == 1
    (message,) = mail.outbox
    assert "await your decision in the review queue" in message.body and reverse(QUEUE) in message.body
