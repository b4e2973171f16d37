"""The Celery task is thin transport over the service; the beat entry exists, is idempotent and pausable."""

import datetime as dt

import pytest
from django_celery_beat.models import PeriodicTask

from retention.beat import BEAT_ENTRY_NAME, ensure_beat_entry
from retention.checks import retention_limits_check
from retention.models import RetentionRun, RunStatus
from retention.tasks import retention_enforce_task
from subjects.models import PersonalDataRecord

pytestmark = pytest.mark.django_db


def test_the_task_runs_the_service_and_is_safe_to_run_twice(world):
    world.rule(action="delete", grace_days=0)
    world.record(collected_on=dt.date(2000, 1, 1))
    first = RetentionRun.objects.get(pk=retention_enforce_task(controller_id=world.controller.pk))
    second = RetentionRun.objects.get(pk=retention_enforce_task(controller_id=world.controller.pk))
    assert (first.origin, first.status, first.deleted) == ("task", RunStatus.FINISHED, 1)
    assert (second.flagged, second.deleted) == (0, 0)
    assert not PersonalDataRecord.objects.exists()


def test_the_task_re_enqueues_itself_while_work_remains(world, settings, monkeypatch):
    world.rule(action="delete", grace_days=0)
    world.record(collected_on=dt.date(2000, 1, 1))
    settings.ROPA_RETENTION_TASK_MAX_SECONDS = 1e-9  # the budget is spent before the first batch
    sent = []
    monkeypatch.setattr(retention_enforce_task, "apply_async", lambda **kwargs: sent.append(kwargs))
    run = RetentionRun.objects.get(pk=retention_enforce_task())
    assert run.status == RunStatus.PARTIAL
    assert sent == [
        {
            "kwargs": {"controller_id": None, "dry_run": False, "origin": "task"},
            "expires": settings.ROPA_RETENTION_BEAT_EXPIRES,
        }
    ]
    settings.ROPA_RETENTION_TASK_MAX_SECONDS = 300
    again = sent.pop()["kwargs"]
    assert RetentionRun.objects.get(pk=retention_enforce_task(**again)).deleted == 1
    assert sent == []


def test_the_task_has_its_explicit_name_and_acks_late():
    assert retention_enforce_task.name == "retention.enforce"
    assert retention_enforce_task.acks_late is True


def test_migrate_creates_the_beat_entry_with_cron_and_expiry(settings):
    entry = PeriodicTask.objects.get(name=BEAT_ENTRY_NAME)
    assert entry.task == "retention.enforce" and entry.enabled
    assert entry.expire_seconds == settings.ROPA_RETENTION_BEAT_EXPIRES
    cron = entry.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week) == (
        "30",
        "2",
        "*",
        "*",
        "*",
    )


def test_the_beat_entry_follows_the_cron_setting_and_stays_paused(settings):
    entry = PeriodicTask.objects.get(name=BEAT_ENTRY_NAME)
    entry.enabled = False
    entry.save()
    settings.ROPA_RETENTION_CRON = "15 4 * * 1"
    ensure_beat_entry()
    ensure_beat_entry()
    entry = PeriodicTask.objects.get(name=BEAT_ENTRY_NAME)
    assert not entry.enabled
    assert (entry.crontab.minute, entry.crontab.hour, entry.crontab.day_of_week) == ("15", "4", "1")
    assert PeriodicTask.objects.filter(task="retention.enforce").count() == 1


def test_checks_refuse_limits_that_would_let_a_second_worker_run_the_sweep(settings):
    assert retention_limits_check() == []
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
    settings.CELERY_TASK_TIME_LIMIT = 900
    settings.ROPA_RETENTION_TASK_MAX_SECONDS = 10_000
    settings.ROPA_RETENTION_CRON = "daily"
    assert {e.id for e in retention_limits_check()} == {"retention.E001", "retention.E002", "retention.E003"}
