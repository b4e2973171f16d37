"""The sweep (``retention_enforce``): flag what has run out, erase what is flagged and past its grace
period, in keyset batches of one short transaction each; the run is the evidence."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, F, Max, Min
from django.urls import reverse
from django.utils import timezone

from processing.models import Controller, ProcessingActivity
from ropa.kernel.dates import local_minute
from ropa.kernel.mail import dpo_link, dpo_mail
from subjects.choices import RecordStatus
from subjects.models import (
    PersonalDataRecord,
)

from .. import engine, selectors
from ..journal import RestorePending, journal_export_after_run, restore_pending
from ..locks import HOLD_LOCK_KEY, advisory_xact_lock
from ..models import RetentionRule, RetentionRun, RunStatus
from .erasure import ERASE_COLUMNS, erase_rows

logger = logging.getLogger(__name__)


# A sweep batch looks at ids (last, last + batch size x this]: bounded reads, few near-empty pages.
WINDOW_BATCHES = 25


class _Budget:
    """Stops a sweep after ``max_batches`` batches or ``max_seconds`` (whichever first), so a task ends
    well inside its time limit and re-enqueues itself for the rest."""

    def __init__(self, max_batches: int | None, max_seconds: float | None):
        self.left = max_batches
        self.deadline = time.monotonic() + max_seconds if max_seconds else None

    def spend(self) -> bool:
        if self.left is not None:
            if self.left <= 0:
                return False
            self.left -= 1
        return self.deadline is None or time.monotonic() < self.deadline


class _Sweep:
    def __init__(self, *, run: RetentionRun, now, controller, batch_size: int, budget: _Budget, pause: float):
        self.run, self.now, self.batch_size, self.budget, self.pause = run, now, batch_size, budget, pause
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        records = PersonalDataRecord.objects.all()
        if controller is not None:
            # A sub-select, not a join: FOR UPDATE must lock record rows only.
            records = records.filter(
                activity_id__in=ProcessingActivity.objects.filter(controller=controller).values("id")
            )
        self.records = records
        self.held = selectors.held_q()

    # The candidates, as the real run and the dry run both ask for them.
    def to_flag(self):
        return self.records.due_for_flag(self.now).filter(expiry_rule__isnull=False).exclude(self.held)

    def to_erase(self):
        return (
            self.records.due_for_erasure(self.now)
            .filter(expiry_rule__action__in=engine.ERASING_ACTIONS)
            .exclude(self.held)
        )

    def held_due(self) -> dict[int, int]:
        """Due records left alone under a legal hold, per deciding rule, as they stand at the end of the
        run. One grouped statement, so one snapshot: each held record is counted once per run, however
        often the keyset windows passed it and whatever a concurrent sweep did meanwhile (a concurrent
        sweep counts the same held records in its own run: each left them alone)."""
        held = self.records.filter(self.held)
        flaggable = held.due_for_flag(self.now).filter(expiry_rule__isnull=False)
        erasable = held.due_for_erasure(self.now).filter(expiry_rule__action__in=engine.ERASING_ACTIONS)
        rows = (flaggable | erasable).values("expiry_rule_id").annotate(n=Count("pk")).order_by()
        return {row["expiry_rule_id"]: row["n"] for row in rows}

    def _count_held(self) -> None:
        """Per rule under ``"hold"``; the run-wide ``skipped_for_hold`` is their sum."""
        held = self.held_due()
        for rule_id, n in held.items():
            if n:
                self.counts[str(rule_id)]["hold"] += n
        self.run.skipped_for_hold = sum(held.values())

    def _count(self, rule_id, action: str, n: int) -> None:
        if n:
            self.counts[str(rule_id)][action] += n
            field = {"flag": "flagged", "anonymise": "anonymised", "delete": "deleted"}[action]
            setattr(self.run, field, getattr(self.run, field) + n)

    def _counted(self) -> tuple:
        return (
            self.run.flagged,
            self.run.anonymised,
            self.run.deleted,
            {rule: dict(actions) for rule, actions in self.counts.items()},
        )

    def _recount(self, counted: tuple) -> None:
        self.run.flagged, self.run.anonymised, self.run.deleted, counts = counted
        self.counts.clear()
        for rule, actions in counts.items():
            self.counts[rule].update(actions)

    def _save_counts(self) -> None:
        self.run.counts = {rule: dict(actions) for rule, actions in sorted(self.counts.items())}
        self.run.heartbeat_at = timezone.now()
        RetentionRun.objects.filter(pk=self.run.pk).update(
            longest_batch_ms=self.run.longest_batch_ms,
            flagged=self.run.flagged,
            anonymised=self.run.anonymised,
            deleted=self.run.deleted,
            counts=self.run.counts,
            heartbeat_at=self.run.heartbeat_at,
        )

    def _batches(self, candidates, step) -> bool:
        """Keyset pages by primary key over ``candidates``: ``step(queryset)`` handles at most one batch of
        the candidates in the current window of ids and returns the ids it took. The window bounds what
        one batch reads, whatever the planner estimates. False when the budget ran out first."""
        bounds = candidates.aggregate(low=Min("pk"), high=Max("pk"))
        high, last = bounds["high"], (bounds["low"] or 1) - 1
        while high is not None and last < high:
            if not self.budget.spend():
                return False
            window_end = last + self.batch_size * WINDOW_BATCHES
            started = time.monotonic()
            counted = self._counted()
            try:
                # durable: a batch commits when it ends, never inside a caller's transaction.
                with transaction.atomic(durable=True):
                    advisory_xact_lock(HOLD_LOCK_KEY, shared=True)
                    page = (
                        candidates.filter(pk__gt=last, pk__lte=window_end)
                        .order_by("pk")
                        .select_for_update(skip_locked=True, of=("self",))
                    )
                    taken = step(page)
                    if taken:
                        self._save_counts()
            except DatabaseError:
                # The batch rolled back: so do the counts it added, or the run would claim its work.
                self._recount(counted)
                raise
            # Measured to the end of the commit; saved with the run's next counts and at its end.
            self.run.longest_batch_ms = max(self.run.longest_batch_ms, int((time.monotonic() - started) * 1000))
            # A full batch may leave more in the window; a short one means the window is done, and an
            # empty one jumps to the next candidate, so gaps in the ids cost one query, not many.
            if len(taken) == self.batch_size:
                last = taken[-1]
            elif taken:
                last = window_end
            else:
                following = candidates.filter(pk__gt=window_end).aggregate(low=Min("pk"))["low"]
                last = high if following is None else following - 1
            if self.pause and taken:
                time.sleep(self.pause)
        return True

    def flag_batch(self, page) -> list[int]:
        rows = list(page.values_list("pk", "expiry_rule_id")[: self.batch_size])
        if not rows:
            return []
        by_rule = defaultdict(list)
        for pk, rule_id in rows:
            by_rule[rule_id].append(pk)
        grace = dict(RetentionRule.objects.filter(pk__in=by_rule).values_list("pk", "grace_days"))
        for rule_id, ids in by_rule.items():
            changed = PersonalDataRecord.objects.filter(pk__in=ids, status=RecordStatus.ACTIVE).update(
                status=RecordStatus.FLAGGED,
                flagged_at=self.now,
                erase_after=engine.erase_after(flagged_at=self.now, grace_days=grace[rule_id]),
                kept_until=None,  # a "keep until" the DPO decided has come: the record is back in the queue
            )
            self._count(rule_id, "flag", changed)
        return [pk for pk, _rule in rows]

    def erase_batch(self, page) -> list[int]:
        rows = list(page.values_list(*ERASE_COLUMNS)[: self.batch_size])
        if not rows:
            return []
        erase_rows(rows, run=self.run, now=self.now)
        for _pk, rule_id, action, *_rest in rows:
            self._count(rule_id, action, 1)
        return [row[0] for row in rows]

    def real(self) -> bool:
        done = self._batches(self.to_flag(), self.flag_batch)
        if done:
            done = self._batches(self.to_erase(), self.erase_batch)
        self._count_held()
        return done

    def dry(self) -> bool:
        """The same questions, no locks, no writes: what a real run at ``now`` would flag, then erase."""
        to_flag = self.to_flag()
        for row in to_flag.values("expiry_rule_id").annotate(n=Count("pk")).order_by():
            self._count(row["expiry_rule_id"], "flag", row["n"])
        erasable_at_once = to_flag.filter(expiry_rule__grace_days=0, expiry_rule__action__in=engine.ERASING_ACTIONS)
        for queryset in (self.to_erase(), erasable_at_once):
            rows = queryset.values("expiry_rule_id", action=F("expiry_rule__action")).annotate(n=Count("pk"))
            for row in rows.order_by():
                self._count(row["expiry_rule_id"], row["action"], row["n"])
        self._count_held()
        return True


def retention_run_mark_interrupted(*, now: dt.datetime | None = None) -> int:
    """Runs still 'running' with no sign of life for longer than any task may live died with their
    worker: say so. Their committed batches stand; the next sweep does the rest."""
    stale = (now or timezone.now()) - dt.timedelta(seconds=settings.ROPA_RETENTION_STALE_AFTER)
    return RetentionRun.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=stale).update(
        status=RunStatus.INTERRUPTED
    )


def retention_enforce(
    *,
    now: dt.datetime,
    dry_run: bool = False,
    controller: Controller | None = None,
    batch_size: int | None = None,
    max_batches: int | None = None,
    max_seconds: float | None = None,
    pause: float = 0.0,
    origin: str = "",
) -> RetentionRun:
    """Sweep once at ``now``: flag the records whose retention has run out (the DPO is mailed), then erase
    (anonymise or delete, per rule) the flagged ones whose grace period is over. Returns its RetentionRun:
    ``finished``, or ``partial`` when the batch or time budget ran out first (run it again for the rest).
    Refuses (``RestorePending``) while the erasure journal is ahead of the database (docs/operations.md)."""
    if timezone.is_naive(now):
        raise ValueError("now must be an aware datetime")
    problem = restore_pending()
    if problem:
        # Runs and tombstones made now would collide with the ones the restore must put back.
        raise RestorePending(problem)
    batch_size = batch_size or settings.ROPA_RETENTION_BATCH_SIZE
    started = timezone.now()
    # A sweep is its own series of short transactions: inside a caller's transaction its batches would hold
    # their locks to the caller's end and could roll back as one. Refused here (RuntimeError), before any run.
    with transaction.atomic(durable=True):
        retention_run_mark_interrupted()
        run = RetentionRun.objects.create(
            started_at=started, heartbeat_at=started, as_of=now, dry_run=dry_run, controller=controller, origin=origin
        )
    sweep = _Sweep(
        run=run,
        now=now,
        controller=controller,
        batch_size=batch_size,
        budget=_Budget(max_batches, max_seconds),
        pause=pause,
    )
    try:
        done = sweep.dry() if dry_run else sweep.real()
        status = RunStatus.FINISHED if done else RunStatus.PARTIAL
    except DatabaseError as error:
        # The failed batch rolled back; what committed before it stands and is counted.
        logger.exception("retention run %s failed", run.pk)
        run.errors += 1
        run.error_log += f"{type(error).__name__} (SQLSTATE {getattr(error, 'sqlstate', None) or '?'})\n"
        status = RunStatus.FAILED
        if not connection.in_atomic_block:
            # A connection lost between batches stays broken; a new one records the failure.
            connection.close_if_unusable_or_obsolete()
    with transaction.atomic():
        run.counts = {rule: dict(actions) for rule, actions in sorted(sweep.counts.items())}
        run.status, run.finished_at = status, timezone.now()
        run.heartbeat_at = run.finished_at
        run.save()
        if run.flagged and not dry_run:
            transaction.on_commit(lambda: retention_run_notify(run=run))
    if run.anonymised + run.deleted:
        journal_export_after_run(run=run)
    logger.info(
        "retention run %s %s: flagged %s, anonymised %s, deleted %s, held %s",
        run.pk,
        run.status,
        run.flagged,
        run.anonymised,
        run.deleted,
        run.skipped_for_hold,
    )
    return run


def retention_run_notify(*, run: RetentionRun) -> None:
    """Tell the DPO what a run flagged: counts and links only, never personal data."""
    if not settings.ROPA_DPO_EMAILS:
        return
    waiting = PersonalDataRecord.objects.flagged().count()
    lines = [
        f"The retention run of {local_minute(run.as_of)} ({settings.TIME_ZONE}) flagged {run.flagged} record(s) "
        "for erasure.",
        f"Records flagged and waiting for erasure now: {waiting}.",
        f"Anonymised in this run: {run.anonymised}. Deleted: {run.deleted}. "
        f"Left alone under a legal hold: {run.skipped_for_hold}.",
        "",
        "Flagged per rule:",
        *(f"  rule #{rule}: {actions.get('flag', 0)}" for rule, actions in run.counts.items() if actions.get("flag")),
        "",
        "Flagged records are erased when their grace period ends, unless a legal hold is placed first. Records "
        "whose rule only flags are never erased by the sweep: they await your decision in the review queue "
        "(erase now, keep until a date, or hold).",
        f"Review queue: {dpo_link(reverse('retention-review'))}",
        f"Flagged records: {dpo_link(reverse('admin:subjects_personaldatarecord_changelist'))}?status__exact=flagged",
        f"This run: {dpo_link(reverse('admin:retention_retentionrun_change', args=[run.pk]))}",
        f"Legal holds: {dpo_link(reverse('admin:retention_legalhold_changelist'))}",
    ]
    dpo_mail(subject=f"{run.flagged} record(s) flagged for erasure", lines=lines)
