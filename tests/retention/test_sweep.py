"""The sweep: flag, grace, anonymise or delete, evidence, holds, dry run, idempotence, batches."""

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from retention.models import ErasureNotice, RetentionRun, RunStatus, Tombstone
from retention.selectors import tombstone_chain_problems
from retention.services import (
    erasure_confirm,
    legal_hold_place,
    legal_hold_release,
    record_update_dates,
    retention_enforce,
    retention_run_mark_interrupted,
)
from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord
from tests.factories import ProcessingActivityFactory
from tests.support.records import NOW

pytestmark = pytest.mark.django_db

LATER = NOW + dt.timedelta(days=31)


def statuses(*records):
    return [PersonalDataRecord.objects.get(pk=r.pk).status for r in records]


def test_due_records_are_flagged_and_the_dpo_is_mailed_without_personal_data(
    world, dpo_mail, django_capture_on_commit_callbacks
):
    rule = world.rule(action="delete")
    due = world.record(collected_on=dt.date(2020, 1, 1))
    not_yet = world.record(collected_on=dt.date(2029, 12, 1))

    with django_capture_on_commit_callbacks(execute=True):
        run = retention_enforce(now=NOW)

    assert (run.status, run.flagged, run.deleted) == (RunStatus.FINISHED, 1, 0)
    assert run.counts == {str(rule.pk): {"flag": 1}}
    due.refresh_from_db()
    assert due.status == RecordStatus.FLAGGED
    assert due.flagged_at == NOW and due.erase_after == NOW + dt.timedelta(days=30)
    assert statuses(not_yet) == [RecordStatus.ACTIVE]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dpo@example.org"]
    assert "flagged 1 record" in message.body and "status__exact=flagged" in message.body
    for personal in ("Jan Peeters", "example.be", due.external_id, due.subject.key):
        assert personal not in message.body and personal not in message.subject


def test_flagged_records_are_erased_only_after_the_grace_period(world):
    world.rule(action="delete", grace_days=30)
    record = world.record()
    retention_enforce(now=NOW)
    run = retention_enforce(now=NOW + dt.timedelta(days=29))
    assert run.deleted == 0 and statuses(record) == [RecordStatus.FLAGGED]
    run = retention_enforce(now=NOW + dt.timedelta(days=30))
    assert run.deleted == 1
    assert not PersonalDataRecord.objects.filter(pk=record.pk).exists()


def test_anonymise_clears_identifying_fields_keeps_statistics_and_writes_evidence(world):
    rule = world.rule(action="anonymise", grace_days=0)
    record = world.record(dates={"contract_ended_on": dt.date(2021, 5, 1)})

    run = retention_enforce(now=NOW)

    assert (run.flagged, run.anonymised, run.deleted) == (1, 1, 0)
    erased = PersonalDataRecord.objects.get(pk=record.pk)
    assert erased.status == RecordStatus.ERASED and erased.erased_at == NOW
    assert erased.payload is None and erased.subject is None and erased.external_id is None
    assert erased.activity == world.activity and erased.data_category == world.category
    assert erased.collected_on == dt.date(2020, 1, 1) and erased.contract_ended_on == dt.date(2021, 5, 1)
    tombstone = Tombstone.objects.get()
    assert (tombstone.record_id, tombstone.rule_id, tombstone.action, tombstone.run_id) == (
        record.pk,
        rule.pk,
        "anonymise",
        run.pk,
    )
    assert (tombstone.activity_id, tombstone.data_category_id, tombstone.erased_at) == (
        world.activity.pk,
        world.category.pk,
        NOW,
    )
    notice = ErasureNotice.objects.get()
    assert (notice.source_system, notice.external_id, notice.record_id) == ("crm", record.external_id, record.pk)
    assert list(tombstone_chain_problems()) == []


def test_tombstones_hold_no_personal_data(world):
    world.rule(action="delete", grace_days=0)
    record = world.record()
    retention_enforce(now=NOW)
    values = " ".join(str(v) for v in Tombstone.objects.values().get().values())
    for personal in ("Jan Peeters", "example.be", record.external_id, record.subject.key):
        assert personal not in values


def test_the_erasure_feed_forgets_an_external_id_once_confirmed(world):
    world.rule(action="delete", grace_days=0)
    record = world.record()
    retention_enforce(now=NOW)
    assert erasure_confirm(source_system="crm", external_ids=[record.external_id], now=NOW) == 1
    notice = ErasureNotice.objects.get()
    assert notice.external_id is None and notice.confirmed_at == NOW


def test_a_flag_only_rule_flags_and_never_erases(world):
    world.rule(action="flag", grace_days=0)
    record = world.record()
    assert retention_enforce(now=NOW).flagged == 1
    run = retention_enforce(now=NOW + dt.timedelta(days=3650))
    assert (run.flagged, run.anonymised, run.deleted) == (0, 0, 0)
    assert statuses(record) == [RecordStatus.FLAGGED]


def test_a_record_with_an_unknown_trigger_date_is_never_flagged(world):
    world.rule(trigger="contract_end")
    record = world.record()
    assert record.expires_at is None
    assert retention_enforce(now=NOW + dt.timedelta(days=36500)).flagged == 0


def test_a_statutory_minimum_keeps_a_record_a_shorter_rule_would_erase(world):
    world.rule(action="delete", duration_value=1, grace_days=0)
    world.rule(action="delete", duration_value=7, statutory=True, legal_reference="WIB 92 art. 315", grace_days=0)
    record = world.record(collected_on=dt.date(2025, 1, 1))
    assert retention_enforce(now=NOW).flagged == 0  # 2030-06-01 is past 1 year but not 7
    assert statuses(record) == [RecordStatus.ACTIVE]
    assert retention_enforce(now=dt.datetime(2032, 1, 2, tzinfo=dt.UTC)).deleted == 1


@pytest.mark.parametrize("scope", ["record", "subject", "activity", "controller"])
def test_a_legal_hold_blocks_flagging_and_erasure_until_released(world, dpo, scope):
    world.rule(action="delete", grace_days=0)
    held = world.record()
    free = world.record() if scope in ("record", "subject") else None
    target = {
        "record": held,
        "subject": held.subject,
        "activity": world.activity,
        "controller": world.controller,
    }[scope]
    hold = legal_hold_place(reason="Litigation 2030/123", actor=dpo, **{scope: target}, now=NOW)

    run = retention_enforce(now=NOW)
    assert statuses(held) == [RecordStatus.ACTIVE]
    assert run.skipped_for_hold == 1
    assert run.deleted == (1 if free else 0)
    dry = retention_enforce(now=NOW, dry_run=True)
    assert (dry.flagged, dry.deleted, dry.skipped_for_hold) == (0, 0, 1)

    legal_hold_release(hold=hold, actor=dpo, reason="Settled", now=NOW)
    run = retention_enforce(now=NOW)
    assert (run.flagged, run.deleted, run.skipped_for_hold) == (1, 1, 0)
    assert not PersonalDataRecord.objects.filter(pk=held.pk).exists()


def test_a_hold_placed_after_flagging_stops_the_erasure(world, dpo):
    world.rule(action="anonymise", grace_days=10)
    record = world.record()
    retention_enforce(now=NOW)
    legal_hold_place(reason="Tax audit", actor=dpo, subject=record.subject)
    run = retention_enforce(now=LATER)
    assert (run.anonymised, run.skipped_for_hold) == (0, 1)
    assert statuses(record) == [RecordStatus.FLAGGED]
    assert not Tombstone.objects.exists()


def test_a_second_sweep_changes_nothing(world):
    world.rule(action="anonymise", grace_days=0)
    world.rule(action="delete", grace_days=0, data_category=world.category, duration_value=2)
    for year in (2015, 2016, 2017, 2029):
        world.record(collected_on=dt.date(year, 1, 1))
    first = retention_enforce(now=NOW)
    assert first.flagged == 3 and first.deleted == 3
    snapshot = list(PersonalDataRecord.objects.order_by("pk").values())
    second = retention_enforce(now=NOW)
    assert (second.flagged, second.anonymised, second.deleted) == (0, 0, 0)
    assert list(PersonalDataRecord.objects.order_by("pk").values()) == snapshot
    assert Tombstone.objects.count() == 3


def test_the_dry_run_reports_exactly_the_real_run_and_changes_nothing(world):
    anonymise = world.rule(action="anonymise", grace_days=0)
    world.rule(action="flag", grace_days=0, data_category=world.category, duration_value=1, duration_unit="months")
    other = ProcessingActivityFactory(controller=world.controller)
    delete = world.rule(activity=other, action="delete", grace_days=5)
    for year in (2015, 2016):
        world.record(collected_on=dt.date(year, 1, 1), activity=other)
    retention_enforce(now=NOW - dt.timedelta(days=10))  # flags those two; their grace ends before NOW
    for day in (dt.date(2015, 1, 1), dt.date(2016, 1, 1), dt.date(2029, 12, 1)):
        world.record(collected_on=day)
    world.record(collected_on=dt.date(2017, 1, 1), activity=other)
    before = list(PersonalDataRecord.objects.order_by("pk").values())

    dry = retention_enforce(now=NOW, dry_run=True)
    assert list(PersonalDataRecord.objects.order_by("pk").values()) == before
    assert not Tombstone.objects.exists()
    real = retention_enforce(now=NOW)

    assert dry.dry_run and not real.dry_run
    fields = ("flagged", "anonymised", "deleted", "skipped_for_hold", "counts")
    assert [getattr(dry, f) for f in fields] == [getattr(real, f) for f in fields]
    assert (real.flagged, real.anonymised, real.deleted) == (3, 2, 2)
    assert real.counts == {str(anonymise.pk): {"flag": 2, "anonymise": 2}, str(delete.pk): {"flag": 1, "delete": 2}}


def test_keyset_batches_stop_on_budget_and_the_next_run_finishes(world):
    world.rule(action="delete", grace_days=0)
    records = [world.record() for _ in range(7)]
    first = retention_enforce(now=NOW, batch_size=3, max_batches=2)
    assert first.status == RunStatus.PARTIAL and first.flagged == 6
    rest = retention_enforce(now=NOW, batch_size=3)
    assert rest.status == RunStatus.FINISHED
    assert first.flagged + rest.flagged == 7 and first.deleted + rest.deleted == 7
    assert not PersonalDataRecord.objects.filter(pk__in=[r.pk for r in records]).exists()
    assert sorted(Tombstone.objects.values_list("record_id", flat=True)) == sorted(r.pk for r in records)
    assert list(Tombstone.objects.order_by("sequence").values_list("sequence", flat=True)) == list(range(1, 8))
    assert list(tombstone_chain_problems()) == []


def test_the_controller_option_limits_the_sweep(world):
    world.rule(action="delete", grace_days=0)
    other = world.rule(action="delete", grace_days=0, activity=ProcessingActivityFactory())  # another controller
    mine = world.record()
    theirs = world.record(activity=other.activity)
    run = retention_enforce(now=NOW, controller=world.controller)
    assert (run.deleted, run.controller) == (1, world.controller)
    assert not PersonalDataRecord.objects.filter(pk=mine.pk).exists()
    assert statuses(theirs) == [RecordStatus.ACTIVE]


def test_moving_a_date_forward_unflags_a_record_no_longer_due(world):
    world.rule(action="delete", grace_days=30)
    record = world.record()
    retention_enforce(now=NOW)
    record = record_update_dates(record=record, dates={"collected_on": dt.date(2030, 1, 1)}, now=NOW)
    assert (record.status, record.flagged_at, record.erase_after) == (RecordStatus.ACTIVE, None, None)
    assert retention_enforce(now=LATER).deleted == 0


def test_changing_a_rule_recomputes_expiry_in_bulk(world):
    rule = world.rule(action="delete", grace_days=30, duration_value=20)
    records = [world.record() for _ in range(3)]
    assert retention_enforce(now=NOW).flagged == 0
    rule.duration_value = 1
    rule.save()
    expected = dt.datetime(2021, 1, 2, tzinfo=NOW.tzinfo)
    assert set(PersonalDataRecord.objects.values_list("expires_at", flat=True)) == {expected}
    assert retention_enforce(now=NOW).flagged == 3
    rule.duration_value = 50
    rule.save()
    assert statuses(*records) == [RecordStatus.ACTIVE] * 3


def test_the_chain_command_verifies_and_finds_tampering(world, capsys):
    world.rule(action="delete", grace_days=0)
    for _ in range(4):
        world.record()
    retention_enforce(now=NOW, batch_size=2)
    call_command("retention_verify_chain")
    assert "verifies: 4 tombstone(s)" in capsys.readouterr().out
    Tombstone.objects.filter(sequence=2).update(record_id=12345)
    with pytest.raises(CommandError):
        call_command("retention_verify_chain")
    Tombstone.objects.filter(sequence=2).delete()
    with pytest.raises(CommandError):
        call_command("retention_verify_chain")


def test_the_command_prints_the_summary(world, capsys):
    rule = world.rule(action="delete", grace_days=0)
    world.record()
    call_command("retention_enforce", "--dry-run", "--controller", world.controller.key, "--now", NOW.isoformat())
    out = capsys.readouterr().out
    assert "dry run (nothing changed)" in out and "would be deleted: 1" in out and f"rule #{rule.pk}" in out
    assert PersonalDataRecord.objects.count() == 1
    call_command("retention_enforce", "--now", NOW.isoformat())
    assert "deleted: 1" in capsys.readouterr().out
    assert RetentionRun.objects.filter(origin="command").count() == 2
    with pytest.raises(CommandError):
        call_command("retention_enforce", "--controller", "nobody")


def test_a_run_that_stopped_answering_is_marked_interrupted(settings):
    settings.ROPA_RETENTION_STALE_AFTER = 60
    old = NOW - dt.timedelta(hours=1)
    stale = RetentionRun.objects.create(started_at=old, heartbeat_at=old, as_of=old)
    live = RetentionRun.objects.create(started_at=NOW, heartbeat_at=NOW, as_of=NOW)
    assert retention_run_mark_interrupted(now=NOW) == 1
    stale.refresh_from_db()
    live.refresh_from_db()
    assert (stale.status, live.status) == (RunStatus.INTERRUPTED, RunStatus.RUNNING)


@pytest.mark.parametrize("path", ["service", "task", "command", "record_update"])
def test_no_path_erases_a_held_record(world, dpo, path):
    from retention.tasks import retention_enforce_task

    world.rule(action="delete", grace_days=0)
    record = world.record(collected_on=dt.date(2000, 1, 1))
    legal_hold_place(reason="Court order", actor=dpo, record=record)
    if path == "service":
        retention_enforce(now=NOW + dt.timedelta(days=36500))
    elif path == "task":
        retention_enforce_task()
    elif path == "command":
        call_command("retention_enforce", "--now", "2100-01-01T00:00:00+00:00")
    else:
        record_update_dates(record=record, dates={"collected_on": dt.date(1990, 1, 1)})
        retention_enforce(now=NOW)
    assert statuses(record) == [RecordStatus.ACTIVE]
    assert not Tombstone.objects.exists()


def test_records_kept_for_a_hold_are_counted_per_rule_once_per_run(world, dpo):
    anonymise = world.rule(action="anonymise", grace_days=10)
    other = ProcessingActivityFactory(controller=world.controller)
    delete = world.rule(activity=other, action="delete", grace_days=0, duration_value=2)
    flagged = [world.record() for _ in range(5)]
    retention_enforce(now=NOW)  # flags these five; their grace ends before LATER
    for record in flagged[:2]:
        legal_hold_place(reason="Litigation", actor=dpo, subject=record.subject, now=NOW)
    active = [world.record(activity=other) for _ in range(4)]
    for record in active[:3]:
        legal_hold_place(reason="Investigation", actor=dpo, record=record, now=NOW)
    before = list(PersonalDataRecord.objects.order_by("pk").values())

    # Small batches: the keyset windows pass the held records many times, each is counted once.
    dry = retention_enforce(now=LATER, dry_run=True, batch_size=1)
    assert list(PersonalDataRecord.objects.order_by("pk").values()) == before
    run = retention_enforce(now=LATER, batch_size=1)

    assert run.counts == {
        str(anonymise.pk): {"anonymise": 3, "hold": 2},
        str(delete.pk): {"flag": 1, "delete": 1, "hold": 3},
    }
    assert run.skipped_for_hold == 5 == sum(actions.get("hold", 0) for actions in run.counts.values())
    assert (dry.counts, dry.skipped_for_hold) == (run.counts, run.skipped_for_hold)
    assert statuses(*flagged[:2]) == [RecordStatus.FLAGGED] * 2
    assert statuses(*active[:3]) == [RecordStatus.ACTIVE] * 3

    again = retention_enforce(now=LATER, batch_size=1)
    assert again.counts == {str(anonymise.pk): {"hold": 2}, str(delete.pk): {"hold": 3}}
    assert again.skipped_for_hold == 5


@pytest.mark.django_db(transaction=True)
def test_a_sweep_refuses_to_run_inside_a_callers_transaction():
    """Each batch is its own short transaction: inside an outer one the batches would hold their locks to its
    end and commit or roll back as one. The sweep says so before it starts a run."""
    with transaction.atomic(), pytest.raises(RuntimeError, match="durable"):
        retention_enforce(now=NOW)
    assert not RetentionRun.objects.exists()
