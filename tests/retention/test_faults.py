"""Faults with real processes on real PostgreSQL and a Redis of the test's own: a Celery worker killed with
SIGKILL mid-sweep, the worker's database connection terminated mid-batch, Redis stopped and started again
under a running beat, and two beat schedulers at once.

After each: nothing erased that was not due or was held, every due record erased exactly once (one
tombstone each, one feed line each), the runs' counts add up to the tombstones, and the chain verifies.

The workers and beats are subprocesses on pytest's test database (``transaction=True``, so they see the
data) and on a ``redis-server`` started here on a free port, never the shared one. On SQLite they are
skipped: other processes cannot share an in-memory test database, and SQLite has no row locks to skip.
"""

import contextlib
import datetime as dt
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import OperationalError, connection
from django.db.models import Sum
from django.utils import timezone

from retention import services
from retention.journal import journal_read, restore_pending
from retention.models import ErasureNotice, RetentionRun, RunStatus, Tombstone
from retention.selectors import tombstone_chain_problems
from retention.services import erasure, legal_hold_place, record_expiry_recompute, sweep
from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord
from tests.factories import DataCategoryFactory, DataSubjectFactory, ProcessingActivityFactory, RetentionRuleFactory
from tests.support.processes import APPS, ROOT, child_env

pytestmark = pytest.mark.django_db(transaction=True, available_apps=APPS)
# Worker and beat processes, and a terminated connection, need the real server.
postgres_only = pytest.mark.postgres(
    reason="needs PostgreSQL: worker and beat processes must share the test database and its row locks"
)

REDIS_SERVER = "redis-server"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(predicate, *, timeout: float, message, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(interval)


class Processes:
    """Subprocesses started by one test, each in its own process group, logs in files; all killed at teardown."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = self.directory / f"{name}-{len(self.started)}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.started.append((process, log))
        return process

    def log(self, process: subprocess.Popen) -> str:
        path = next(log for p, log in self.started if p is process)
        return path.read_text()[-4000:]

    def kill(self, process: subprocess.Popen, sig=signal.SIGKILL) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def stop_all(self) -> None:
        for process, _log in reversed(self.started):
            self.kill(process)


@pytest.fixture
def processes(tmp_path):
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()


class Redis:
    """A ``redis-server`` of this test only, without persistence, that can be stopped and started again."""

    def __init__(self, processes: Processes):
        self.processes, self.port, self.process = processes, _free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = self.processes.start(
            "redis",
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        )
        _wait_for(self.reachable, timeout=10, message="redis-server did not start")

    def stop(self) -> None:
        self.processes.kill(self.process, signal.SIGTERM)

    def reachable(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False


@pytest.fixture
def redis(processes):
    if subprocess.run(["which", REDIS_SERVER], capture_output=True).returncode != 0:
        pytest.skip("redis-server is not installed")
    server = Redis(processes)
    server.start()
    return server


def celery_env(redis: Redis, **extra) -> dict:
    """The children's settings: the test database, the test's Redis, small batches so a sweep takes a while.
    The time limits keep their documented order (max seconds < soft < hard < visibility timeout), scaled
    down so that a message whose worker died is handed out again within seconds."""
    settings = {
        "CELERY_BROKER_URL": redis.url,
        "ROPA_RETENTION_BATCH_SIZE": "20",
        "ROPA_RETENTION_TASK_MAX_SECONDS": "1",
        "CELERY_TASK_SOFT_TIME_LIMIT": "2",
        "CELERY_TASK_TIME_LIMIT": "3",
        "CELERY_VISIBILITY_TIMEOUT": "4",
        "ROPA_RETENTION_STALE_AFTER": "2",
    }
    return child_env(**{**settings, **extra})


def start_worker(processes: Processes, env: dict, name: str) -> subprocess.Popen:
    return processes.start(
        "worker",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ropa",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}@%h",
        ],
        env,
    )


def start_beat(processes: Processes, env: dict, tmp_path: Path, name: str) -> subprocess.Popen:
    return processes.start(
        "beat",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ropa",
            "beat",
            "--loglevel=INFO",
            "--max-interval=1",
            f"--pidfile={tmp_path / f'{name}.pid'}",
        ],
        env,
    )


def send_sweep(redis: Redis) -> None:
    """One sweep message on the test's Redis (an explicit connection: Celery prefers $CELERY_BROKER_URL)."""
    from ropa.celery import app

    with app.connection_for_write(redis.url) as conn:
        app.send_task("retention.enforce", kwargs={}, connection=conn)


def sweep_every_second() -> None:
    """What beat schedules: the sweep, every second instead of daily (the daily entry is paused)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from retention.beat import BEAT_ENTRY_NAME

    PeriodicTask.objects.filter(name=BEAT_ENTRY_NAME).update(enabled=False)
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="sweep every second", task="retention.enforce", interval=every, expire_seconds=30)


class Data:
    """Due records (half anonymise, half delete, no grace period), records not yet due, and due records of a
    subject under a legal hold. Only the first kind may ever be erased."""

    def __init__(self, *, due: int, not_due: int = 30, held: int = 30):
        self.activity = ProcessingActivityFactory()
        self.anonymise, self.delete = DataCategoryFactory(), DataCategoryFactory()
        for category, action in ((self.anonymise, "anonymise"), (self.delete, "delete")):
            RetentionRuleFactory(
                activity=self.activity,
                data_category=category,
                trigger="collection",
                duration_value=1,
                duration_unit="years",
                action=action,
                grace_days=0,
            )
        self.subject = DataSubjectFactory(controller=self.activity.controller)
        self.held_subject = DataSubjectFactory(controller=self.activity.controller)
        self._n = 0
        self.due = self.add(due)
        self.not_due = self.add(not_due, collected_on=timezone.localdate())
        self.held = self.add(held, subject=self.held_subject)
        actor = get_user_model().objects.create_user("fault-dpo")
        legal_hold_place(subject=self.held_subject, reason="Litigation", actor=actor)

    def add(self, n: int, *, collected_on=dt.date(2000, 1, 1), subject=None) -> list[int]:
        start = self._n
        self._n += n
        created = PersonalDataRecord.objects.bulk_create(
            PersonalDataRecord(
                subject=subject or self.subject,
                activity=self.activity,
                data_category=self.anonymise if i % 2 else self.delete,
                source_system="fault",
                external_id=f"F-{i}",
                payload={"i": i},
                collected_on=collected_on,
            )
            for i in range(start, start + n)
        )
        record_expiry_recompute(activity_ids=[self.activity.pk])
        return [record.pk for record in created]

    def left(self) -> int:
        """Due records not erased yet."""
        return PersonalDataRecord.objects.filter(pk__in=self.due).exclude(status=RecordStatus.ERASED).count()

    def assert_consistent(self) -> None:
        assert self.left() == 0
        kept = PersonalDataRecord.objects.filter(pk__in=self.not_due + self.held)
        assert sorted(kept.filter(status=RecordStatus.ACTIVE).values_list("pk", flat=True)) == sorted(
            self.not_due + self.held
        ), "a record that was not due, or was held, was flagged or erased"
        erased = list(Tombstone.objects.values_list("record_id", flat=True))
        assert len(erased) == len(set(erased)), "a record has two tombstones"
        assert sorted(erased) == sorted(self.due)
        assert sorted(ErasureNotice.objects.values_list("record_id", flat=True)) == sorted(self.due)
        real = RetentionRun.objects.filter(dry_run=False)
        totals = real.aggregate(flagged=Sum("flagged"), erased=Sum("anonymised") + Sum("deleted"))
        assert totals == {"flagged": len(self.due), "erased": len(self.due)}
        for run in real:
            assert run.anonymised + run.deleted == Tombstone.objects.filter(run=run).count(), run
            per_rule = sum(n for actions in run.counts.values() for action, n in actions.items() if action != "hold")
            assert per_rule == run.flagged + run.anonymised + run.deleted, run
        assert list(tombstone_chain_problems()) == []
        call_command("retention_verify_chain", stdout=open(os.devnull, "w"))  # noqa: SIM115


def erased_count() -> int:
    return Tombstone.objects.count()


@postgres_only
def test_a_worker_killed_mid_sweep_has_its_task_handed_out_again(processes, redis):
    data = Data(due=3000)
    env = celery_env(redis)
    first = start_worker(processes, env, "first")
    send_sweep(redis)
    _wait_for(
        lambda: erased_count() >= 100,
        timeout=60,
        message=lambda: f"the sweep did not start erasing:\n{processes.log(first)}",
        interval=0.02,
    )
    processes.kill(first)  # SIGKILL: no chance to finish the batch, ack or say anything
    assert first.returncode == -signal.SIGKILL
    erased_when_killed = erased_count()
    assert erased_when_killed < len(data.due), "the worker was not killed mid-sweep"
    killed = RetentionRun.objects.order_by("pk").last()
    assert killed.status == RunStatus.RUNNING
    assert killed.anonymised + killed.deleted == Tombstone.objects.filter(run=killed).count()

    # Nobody sends anything: the acks-late message the dead worker held comes back from Redis, to the first
    # worker that starts once the visibility timeout has passed (a running worker also looks every ~100 s).
    time.sleep(int(env["CELERY_VISIBILITY_TIMEOUT"]) + 0.5)
    second = start_worker(processes, env, "second")
    _wait_for(
        lambda: data.left() == 0,
        timeout=60,
        message=lambda: f"the task was not handed out again ({data.left()} left):\n{processes.log(second)}",
        interval=0.2,
    )
    _wait_for(
        lambda: not RetentionRun.objects.filter(status=RunStatus.RUNNING).exclude(pk=killed.pk).exists(),
        timeout=30,
        message="a run did not end",
    )
    killed.refresh_from_db()
    assert killed.status == RunStatus.INTERRUPTED  # a later sweep saw it had died
    data.assert_consistent()


@postgres_only
def test_a_database_connection_dropped_mid_batch_fails_the_run_and_the_next_run_finishes(processes, redis):
    data = Data(due=3000)
    application = f"ropa-fault-{os.getpid()}"
    env = celery_env(
        redis,
        ROPA_RETENTION_TASK_MAX_SECONDS="60",
        CELERY_TASK_SOFT_TIME_LIMIT="120",
        CELERY_TASK_TIME_LIMIT="150",
        CELERY_VISIBILITY_TIMEOUT="300",
    )
    env["DATABASE_URL"] += f"?application_name={application}"
    worker = start_worker(processes, env, "worker")
    send_sweep(redis)
    _wait_for(lambda: erased_count() >= 100, timeout=60, message=lambda: processes.log(worker), interval=0.02)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            [application],
        )
        assert cursor.fetchone()[0] >= 1
    cut = RetentionRun.objects.order_by("pk").last()
    _wait_for(
        lambda: RetentionRun.objects.filter(pk=cut.pk, finished_at__isnull=False).exists(),
        timeout=30,
        message=lambda: f"the run on the dropped connection did not end:\n{processes.log(worker)}",
    )
    cut.refresh_from_db()
    assert cut.status == RunStatus.FAILED, cut.status
    assert "SQLSTATE" in cut.error_log and cut.errors == 1
    assert 0 < data.left() < len(data.due), "the connection was not dropped mid-sweep"
    assert cut.anonymised + cut.deleted == Tombstone.objects.filter(run=cut).count()

    send_sweep(redis)  # the next run (beat's next tick) does the rest, on a new connection
    _wait_for(lambda: data.left() == 0, timeout=60, message=lambda: processes.log(worker), interval=0.2)
    _wait_for(
        lambda: not RetentionRun.objects.filter(status=RunStatus.RUNNING).exists(),
        timeout=30,
        message="a run did not end",
    )
    assert worker.poll() is None, "the worker died with its connection"
    data.assert_consistent()


@postgres_only
def test_redis_stopped_and_started_under_a_running_beat(processes, redis, tmp_path):
    data = Data(due=400)
    sweep_every_second()
    env = celery_env(redis)
    worker = start_worker(processes, env, "worker")
    beat = start_beat(processes, env, tmp_path, "beat")
    _wait_for(
        lambda: data.left() == 0,
        timeout=60,
        message=lambda: f"beat's sweeps did not run:\n{processes.log(beat)}\n{processes.log(worker)}",
        interval=0.2,
    )

    redis.stop()
    time.sleep(3)  # beat ticks and the worker polls against a broker that is gone
    data.due += data.add(400)  # due while the broker is down
    redis.start()
    restarted = timezone.now()
    _wait_for(
        lambda: data.left() == 0,
        timeout=60,
        message=lambda: f"no sweep after Redis came back:\n{processes.log(beat)}\n{processes.log(worker)}",
        interval=0.2,
    )
    assert RetentionRun.objects.filter(started_at__gte=restarted, anonymised__gt=0).exists()
    assert beat.poll() is None and worker.poll() is None, "beat or the worker did not survive the outage"
    processes.kill(beat)
    _wait_for(
        lambda: not RetentionRun.objects.filter(status=RunStatus.RUNNING).exists(),
        timeout=30,
        message="a run did not end",
    )
    data.assert_consistent()


@postgres_only
def test_two_beats_at_once_sweep_side_by_side_without_erasing_twice(processes, redis, tmp_path):
    data = Data(due=3000)
    sweep_every_second()
    journal = tmp_path / "erasures.jsonl"  # both sweeps append to it after each run, one at a time
    env = celery_env(redis, ROPA_ERASURE_JOURNAL=str(journal))
    for name in ("one", "two"):
        start_worker(processes, env, name)
    beats = [start_beat(processes, env, tmp_path, name) for name in ("beat-one", "beat-two")]
    _wait_for(
        lambda: data.left() == 0,
        timeout=90,
        message=lambda: f"the sweeps did not finish ({data.left()} left):\n{processes.log(beats[0])}",
        interval=0.2,
    )
    assert all(beat.poll() is None for beat in beats), "both beats should keep running"
    for beat in beats:
        processes.kill(beat)
    _wait_for(
        lambda: not RetentionRun.objects.filter(status=RunStatus.RUNNING).exists(),
        timeout=30,
        message="a run did not end",
    )
    erasing = list(RetentionRun.objects.filter(anonymised__gt=0).order_by("started_at"))
    overlapping = [(a, b) for a, b in itertools.pairwise(erasing) if b.started_at < a.finished_at]
    assert overlapping, "no two sweeps overlapped"
    data.assert_consistent()
    _runs, tombstones = journal_read(journal)  # verifies the journal's chain
    chain = Tombstone.objects.order_by("sequence").values_list("hash", flat=True)
    assert [t["hash"] for t in tombstones] == list(chain)
    assert restore_pending(journal) is None


def test_a_batch_that_fails_to_commit_takes_its_counts_back_with_it(monkeypatch):
    """What the dropped connection above can hit: a batch counts its erasures, then fails before committing.
    The failed run must count only its committed batches. (Here the failure is forced, on any database.)"""
    data = Data(due=60, not_due=0, held=0)
    real_insert, calls = erasure.insert_rows, []

    def insert_failing_on_the_second_tombstone_batch(model, columns, rows):
        if model is Tombstone:
            calls.append(len(rows))
            if len(calls) == 2:
                raise OperationalError("server closed the connection unexpectedly")
        real_insert(model, columns, rows)

    monkeypatch.setattr(erasure, "insert_rows", insert_failing_on_the_second_tombstone_batch)
    run = services.retention_enforce(now=timezone.now(), batch_size=20)

    assert run.status == RunStatus.FAILED and run.errors == 1
    assert Tombstone.objects.count() == 20 and data.left() == 40
    run.refresh_from_db()
    assert (run.flagged, run.anonymised + run.deleted) == (60, 20)
    assert sum(n for actions in run.counts.values() for action, n in actions.items() if action != "flag") == 20


@postgres_only
def test_a_connection_lost_between_batches_still_records_the_failed_run(monkeypatch):
    """The connection dropped outside a batch (the sweep's own reads): the run is still saved as failed."""
    data = Data(due=40, not_due=0, held=0)

    def terminate_own_connection(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    monkeypatch.setattr(sweep._Sweep, "held_due", terminate_own_connection)
    run = services.retention_enforce(now=timezone.now(), batch_size=20)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "SQLSTATE" in run.error_log
    assert run.anonymised + run.deleted == Tombstone.objects.count() == 40 and data.left() == 0


@postgres_only
def test_a_connection_lost_during_the_evidence_copy_records_the_failed_run(monkeypatch):
    """The connection dropped while the tombstones of a batch are being copied in (psycopg's COPY, which
    Django does not wrap): the batch rolls back and the run is still saved as failed, not left running."""
    import psycopg

    data = Data(due=40, not_due=0, held=0)
    real_insert, calls = erasure.insert_rows, []

    def insert_on_a_terminated_connection(model, columns, rows):
        if model is Tombstone:
            calls.append(len(rows))
            if len(calls) == 2:
                pid = connection.connection.info.backend_pid
                settings = connection.get_connection_params()
                with psycopg.connect(**settings, autocommit=True) as other:
                    other.execute("SELECT pg_terminate_backend(%s)", [pid])
        real_insert(model, columns, rows)

    monkeypatch.setattr(erasure, "insert_rows", insert_on_a_terminated_connection)
    run = services.retention_enforce(now=timezone.now(), batch_size=20)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.finished_at is not None and "SQLSTATE" in run.error_log
    assert run.anonymised + run.deleted == Tombstone.objects.count() == 20 and data.left() == 20
