"""Real processes on real PostgreSQL: two sweeps at once, a sweep killed with SIGKILL, a Celery worker.

These commit their data (``transaction=True``) so that the other processes see it, and point those
processes at pytest's test database. On SQLite they are skipped: an in-memory test database cannot be
shared, and SQLite has no row locks to skip.
"""

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db.models import Sum

from retention.models import ErasureNotice, RetentionRun, RunStatus, Tombstone
from retention.selectors import tombstone_chain_problems
from retention.services import record_expiry_recompute, retention_enforce
from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord
from tests.factories import DataCategoryFactory, DataSubjectFactory, ProcessingActivityFactory, RetentionRuleFactory
from tests.support.processes import APPS, ROOT, child_env

pytestmark = [
    pytest.mark.postgres(reason="needs PostgreSQL: other processes must share the test database and its row locks"),
    pytest.mark.django_db(transaction=True, available_apps=APPS),
]


def manage(*args, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def due_records(n: int) -> list[int]:
    """``n`` records past their retention, half anonymised and half deleted, all with a zero grace period."""
    activity = ProcessingActivityFactory()
    anonymise_category, delete_category = DataCategoryFactory(), DataCategoryFactory()
    RetentionRuleFactory(
        activity=activity,
        data_category=anonymise_category,
        trigger="collection",
        duration_value=1,
        duration_unit="years",
        action="anonymise",
        grace_days=0,
    )
    RetentionRuleFactory(
        activity=activity,
        data_category=delete_category,
        trigger="collection",
        duration_value=1,
        duration_unit="years",
        action="delete",
        grace_days=0,
    )
    subject = DataSubjectFactory(controller=activity.controller)
    PersonalDataRecord.objects.bulk_create(
        PersonalDataRecord(
            subject=subject,
            activity=activity,
            data_category=anonymise_category if i % 2 else delete_category,
            source_system="proc",
            external_id=f"P-{i}",
            payload={"i": i},
            collected_on=dt.date(2000, 1, 1),
        )
        for i in range(n)
    )
    record_expiry_recompute(activity_ids=[activity.pk])
    return list(PersonalDataRecord.objects.values_list("pk", flat=True))


def assert_each_erased_exactly_once(ids: list[int]) -> None:
    assert not PersonalDataRecord.objects.filter(pk__in=ids).exclude(status=RecordStatus.ERASED).exists()
    erased = list(Tombstone.objects.values_list("record_id", flat=True))
    assert sorted(erased) == sorted(ids)  # one tombstone per record: none missing, none twice
    assert ErasureNotice.objects.count() == len(ids)
    totals = RetentionRun.objects.filter(dry_run=False).aggregate(
        flagged=Sum("flagged"), erased=Sum("anonymised") + Sum("deleted")
    )
    assert totals == {"flagged": len(ids), "erased": len(ids)}
    for run in RetentionRun.objects.all():
        assert run.anonymised + run.deleted == Tombstone.objects.filter(run=run).count()
    assert list(tombstone_chain_problems()) == []


def test_two_sweeps_at_once_erase_nothing_twice_and_count_nothing_twice():
    ids = due_records(400)
    sweeps = [manage("retention_enforce", "--batch-size", "10", "--pause", "0.02") for _ in range(2)]
    for sweep in sweeps:
        _out, err = sweep.communicate(timeout=120)
        assert sweep.returncode == 0, err
    runs = list(RetentionRun.objects.all())
    assert len(runs) == 2 and all(run.status == RunStatus.FINISHED for run in runs)
    assert all(run.anonymised + run.deleted > 0 for run in runs), "the two sweeps did not overlap"
    assert_each_erased_exactly_once(ids)


def test_a_sweep_killed_mid_run_leaves_whole_batches_and_the_next_sweep_finishes():
    ids = due_records(300)
    batch = 10
    sweep = manage("retention_enforce", "--batch-size", str(batch), "--pause", "0.05")
    deadline = time.monotonic() + 60
    while Tombstone.objects.count() < 3 * batch and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(sweep.pid, signal.SIGKILL)
    sweep.wait(timeout=10)
    assert sweep.returncode == -signal.SIGKILL

    killed = RetentionRun.objects.get()
    erased = Tombstone.objects.count()
    assert 0 < erased < len(ids), "the sweep was not killed mid-run"
    assert erased % batch == 0  # only whole batches committed
    assert killed.status == RunStatus.RUNNING  # it never got to say it finished
    assert killed.anonymised + killed.deleted == erased  # counts moved with the batches
    gone_or_erased = len(ids) - PersonalDataRecord.objects.exclude(status=RecordStatus.ERASED).count()
    assert gone_or_erased == erased

    after = retention_enforce(now=dt.datetime.now(dt.UTC))
    assert after.status == RunStatus.FINISHED
    assert_each_erased_exactly_once(ids)


def _redis_url() -> str | None:
    url = (
        settings.CELERY_BROKER_URL if settings.CELERY_BROKER_URL.startswith("redis://") else "redis://127.0.0.1:6379/3"
    )
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1).close()
    except OSError:
        return None
    return url


def test_a_real_celery_worker_runs_the_task_twice_safely():
    broker = _redis_url()
    if broker is None:
        pytest.skip("Redis is not reachable")
    from celery import Celery

    ids = due_records(40)
    queue = f"retention-test-{os.getpid()}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ropa",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
        ],
        cwd=ROOT,
        env=child_env(CELERY_BROKER_URL=broker),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        client = Celery(broker=broker)
        for _ in range(2):  # a redelivered or duplicated message must change nothing the second time
            client.send_task("retention.enforce", kwargs={}, queue=queue)
        deadline = time.monotonic() + 90
        while RetentionRun.objects.filter(origin="task", finished_at__isnull=False).count() < 2:
            assert worker.poll() is None, worker.stderr.read()
            assert time.monotonic() < deadline, "the worker did not run both tasks"
            time.sleep(0.2)
        client.close()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    assert_each_erased_exactly_once(ids)
    first, second = RetentionRun.objects.order_by("pk")
    assert (first.anonymised + first.deleted, second.anonymised + second.deleted) == (len(ids), 0)
