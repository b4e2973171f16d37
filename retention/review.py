"""The DPO's review of flagged records: the decisions that end a grace period, or that a flag-only rule waits for.

Flagging starts a grace period (the rule's ``grace_days``) for exactly this review. A record whose deciding
rule erases is erased by the sweep when it ends, unless the DPO holds it; a record whose rule only flags
("flag for review") is never erased by the sweep: a person decides. The decisions:

- ``flagged_records_hold``: a legal hold per record (``legal_hold_place``): never erased while it stands.
- ``flagged_records_release`` (erasing rules): erasure approved now, so the next sweep erases without waiting
  for the rest of the grace period. It only moves ``erase_after`` forward; the sweep still re-checks, under
  its row lock, that the record is flagged, expired, unheld and that its rule erases.
- ``flagged_records_erase`` (flag-only rules): erase now, through the one eraser (``services.erase_rows``:
  tombstone, erasure-feed line, a run of origin ``review``), deleting the record. Refused, under the same
  locks the sweep takes, for a record under a legal hold in force or inside a statutory minimum.
- ``flagged_records_keep_until`` (flag-only rules): keep until a day; the record leaves the queue (active,
  ``kept_until`` set) and the sweep flags it again from that day, back in the queue.

Every decision takes a reason and leaves a ``ReviewDecision`` per record (visible on the record's page, the
reason for the DPO only) and an audit event (ids and field names, no personal data), approvals of an early
erasure (``flagged_records_release``) included. The single-record forms (``flagged_record_erase``,
``flagged_record_keep_until``, ``flagged_record_hold``) raise ``ValidationError`` naming why a record is
refused; the bulk forms skip refused records and report them per reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from subjects.choices import RecordStatus, ReviewDecisionKind
from subjects.models import PersonalDataRecord, ReviewDecision

from . import engine
from .journal import journal_export_after_run, restore_pending
from .locks import HOLD_LOCK_KEY, advisory_xact_lock
from .models import LegalHold, RetentionRule, RetentionRun, RunStatus
from .selectors import held_q, retention_time_zone
from .services import erase_rows, legal_hold_place, statutory_keep

logger = logging.getLogger(__name__)

APPROVAL_MESSAGE = "Erasure approved in the review queue before the end of the grace period."
REVIEW_ORIGIN = "review"
# Keeping is a re-review, not an archive: at most this far ahead (a hold is for longer, open-ended needs).
KEEP_AT_MOST_DAYS = 10 * 366

# Why a record is refused a decision (``ReviewOutcome.refused``), and what the single-record forms say.
REFUSALS = {
    "not_flagged": "The record is not flagged (any more): nothing awaits a decision.",
    "rule_erases": "Its rule erases by itself: let erasure proceed, or place a legal hold.",
    "not_expired": "Its retention has not run out (any more).",
    "held": "A legal hold in force covers it: release the hold first.",
    "statutory": "A statutory minimum still keeps it.",
}


@dataclass(frozen=True)
class ReviewOutcome:
    """What a bulk decision did: ``done`` records, ``skipped`` ones, and the skipped ids per refusal."""

    done: int
    skipped: int
    refused: dict[str, list[int]] = field(default_factory=dict)
    runs: tuple[int, ...] = ()


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": f"Say why {what}."})
    return reason


def _decisions(records, *, decision: str, reason: str, actor, now, **fields) -> list[ReviewDecision]:
    """One ``ReviewDecision`` per record, saved one by one so that each is audited (ids, field names)."""
    saved = []
    for record in records:
        row = ReviewDecision(
            record_id=record.pk,
            activity_id=record.activity_id,
            decision=decision,
            reason=reason,
            decided_by=actor if getattr(actor, "pk", None) else None,
            decided_at=now,
            **{name: value(record) if callable(value) else value for name, value in fields.items()},
        )
        row.full_clean(exclude=["record", "activity", "decided_by"])
        row.save()
        saved.append(row)
    return saved


def _awaiting(records, now: dt.datetime) -> tuple[list[PersonalDataRecord], dict[str, list[int]]]:
    """Lock the records and split them: those a flag-only rule flagged and whose retention has run out (the
    decision is theirs to take), and the others per refusal. Called inside the decision's transaction."""
    wanted = sorted(set(records.values_list("pk", flat=True)))
    locked = list(
        PersonalDataRecord.objects.select_for_update(of=("self",))
        .filter(pk__in=wanted)
        .select_related("activity", "data_category", "expiry_rule")
        .order_by("pk")
    )
    refused: dict[str, list[int]] = defaultdict(list)
    found = {record.pk for record in locked}
    refused["not_flagged"].extend(pk for pk in wanted if pk not in found)
    awaiting = []
    for record in locked:
        if record.status != RecordStatus.FLAGGED:
            refused["not_flagged"].append(record.pk)
        elif record.expiry_rule is not None and record.expiry_rule.action in engine.ERASING_ACTIONS:
            refused["rule_erases"].append(record.pk)
        elif record.expires_at is None or record.expires_at > now:
            refused["not_expired"].append(record.pk)
        else:
            awaiting.append(record)
    return awaiting, refused


def _outcome(done: int, refused: dict[str, list[int]], runs=()) -> ReviewOutcome:
    refused = {why: sorted(ids) for why, ids in refused.items() if ids}
    return ReviewOutcome(
        done=done, skipped=sum(len(ids) for ids in refused.values()), refused=refused, runs=tuple(runs)
    )


def _refuse_single(outcome: ReviewOutcome) -> None:
    if not outcome.done:
        why = next(iter(outcome.refused), "not_flagged")
        raise ValidationError({"record": REFUSALS[why]})


# --- erase now (flag-only rules) -----------------------------------------------------------------------


@transaction.atomic
def flagged_records_erase(*, records, reason: str, actor, now: dt.datetime | None = None) -> ReviewOutcome:
    """Erase now the records of ``records`` (a queryset) that a flag-only rule flagged: the DPO's decision,
    with ``reason``. Through the one eraser (deleted, one tombstone and one feed line each, one run of origin
    ``review`` per controller), under the locks the sweep takes; records under a legal hold in force or
    inside a statutory minimum are refused, as are records not awaiting a decision (see ``REFUSALS``)."""
    now = now or timezone.now()
    reason = _reason(reason, "the record is erased now")
    problem = restore_pending()
    if problem:
        # As for a sweep: tombstones made now would collide with the ones the restore must put back.
        raise ValidationError({"records": f"Erasure refused until the restore is complete: {problem}"})
    # Shared with the sweep: a hold placed before this point is seen, none can be placed until commit.
    advisory_xact_lock(HOLD_LOCK_KEY, shared=True)
    awaiting, refused = _awaiting(records, now)
    held = set(
        PersonalDataRecord.objects.filter(held_q(), pk__in=[r.pk for r in awaiting]).values_list("pk", flat=True)
    )
    rules: dict[int, dict[int, RetentionRule]] = {}
    erasable = []
    for record in awaiting:
        if record.pk in held:
            refused["held"].append(record.pk)
            continue
        if record.activity_id not in rules:
            rules[record.activity_id] = {r.pk: r for r in RetentionRule.objects.filter(activity_id=record.activity_id)}
        if statutory_keep(record, rules[record.activity_id], now=now):
            refused["statutory"].append(record.pk)
            continue
        erasable.append(record)
    by_controller = defaultdict(list)
    for record in erasable:
        by_controller[record.activity.controller_id].append(record)
    runs = []
    for controller_id, chosen in sorted(by_controller.items()):
        run = RetentionRun.objects.create(
            started_at=now,
            heartbeat_at=now,
            as_of=now,
            controller_id=controller_id,
            origin=REVIEW_ORIGIN,
            status=RunStatus.RUNNING,
        )
        # ``ERASE_COLUMNS``; the rule only flags, so the decision deletes.
        rows = [
            (r.pk, r.expiry_rule_id, "delete", r.activity_id, r.data_category_id, r.source_system, r.external_id)
            for r in chosen
        ]
        erase_rows(rows, run=run, now=now)
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for _pk, rule_id, action, *_rest in rows:
            counts[str(rule_id)][action] += 1
        run.counts = {rule: dict(actions) for rule, actions in sorted(counts.items())}
        run.deleted = len(rows)
        run.status, run.finished_at = RunStatus.FINISHED, timezone.now()
        run.heartbeat_at = run.finished_at
        run.save()
        transaction.on_commit(lambda run=run: journal_export_after_run(run=run))
        _decisions(chosen, decision=ReviewDecisionKind.ERASE, reason=reason, actor=actor, now=now, run_id=run.pk)
        runs.append(run.pk)
    logger.info("review: %d flagged record(s) erased by decision of user %s", len(erasable), getattr(actor, "pk", None))
    return _outcome(len(erasable), refused, runs)


def flagged_record_erase(*, record: PersonalDataRecord, reason: str, actor, now: dt.datetime | None = None):
    """Erase one record a flag-only rule flagged (``flagged_records_erase``); ``ValidationError`` naming why
    when it is refused. Returns the ``ReviewDecision``."""
    with transaction.atomic():
        outcome = flagged_records_erase(
            records=PersonalDataRecord.objects.filter(pk=record.pk), reason=reason, actor=actor, now=now
        )
        _refuse_single(outcome)
        return ReviewDecision.objects.filter(record_id=record.pk).order_by("-pk").first()


# --- keep until a day (flag-only rules) ----------------------------------------------------------------


def _keep_day(until, now: dt.datetime) -> dt.date:
    if not isinstance(until, dt.date) or isinstance(until, dt.datetime):
        raise ValidationError({"until": "Give a day (YYYY-MM-DD)."})
    today = timezone.localtime(now, retention_time_zone()).date()
    if until <= today:
        raise ValidationError({"until": "Give a day after today: the record comes back to the queue on that day."})
    if until > today + dt.timedelta(days=KEEP_AT_MOST_DAYS):
        raise ValidationError({"until": "At most ten years ahead; for a longer or open-ended need, place a hold."})
    return until


@transaction.atomic
def flagged_records_keep_until(
    *, records, until: dt.date, reason: str, actor, now: dt.datetime | None = None
) -> ReviewOutcome:
    """Keep the records of ``records`` that a flag-only rule flagged until the day ``until``: they leave the
    queue (active again, ``kept_until`` = 00:00 that day in the register's time zone) and the sweep flags
    them again from then on. The DPO's decision, with ``reason``; records not awaiting a decision are
    refused (see ``REFUSALS``)."""
    now = now or timezone.now()
    reason = _reason(reason, "the record is kept")
    until = _keep_day(until, now)
    awaiting, refused = _awaiting(records, now)
    kept_until = engine.start_of_day(until, retention_time_zone())
    ids = [record.pk for record in awaiting]
    PersonalDataRecord.objects.filter(pk__in=ids).update(
        status=RecordStatus.ACTIVE, flagged_at=None, erase_after=None, kept_until=kept_until, updated_at=now
    )
    _decisions(awaiting, decision=ReviewDecisionKind.KEEP, reason=reason, actor=actor, now=now, kept_until=until)
    logger.info("review: %d flagged record(s) kept until %s by user %s", len(ids), until, getattr(actor, "pk", None))
    return _outcome(len(ids), refused)


def flagged_record_keep_until(
    *, record: PersonalDataRecord, until: dt.date, reason: str, actor, now: dt.datetime | None = None
):
    """Keep one record a flag-only rule flagged until ``until`` (``flagged_records_keep_until``);
    ``ValidationError`` naming why when it is refused. Returns the ``ReviewDecision``."""
    with transaction.atomic():
        outcome = flagged_records_keep_until(
            records=PersonalDataRecord.objects.filter(pk=record.pk), until=until, reason=reason, actor=actor, now=now
        )
        _refuse_single(outcome)
        return ReviewDecision.objects.filter(record_id=record.pk).order_by("-pk").first()


# --- hold, release ---------------------------------------------------------------------------------------


@transaction.atomic
def flagged_records_hold(*, records, reason: str, actor, now: dt.datetime | None = None) -> list[LegalHold]:
    """Place one legal hold on each flagged, unheld record of ``records`` (all or none), each with a
    ``ReviewDecision`` naming the hold."""
    now = now or timezone.now()
    reason = _reason(reason, "erasure is frozen")
    chosen = list(records.filter(status=RecordStatus.FLAGGED).exclude(held_q()).order_by("pk"))
    holds = [legal_hold_place(record=record, reason=reason, actor=actor, now=now) for record in chosen]
    by_record = {hold.record_id: hold.pk for hold in holds}
    _decisions(
        chosen, decision=ReviewDecisionKind.HOLD, reason=reason, actor=actor, now=now, hold_id=lambda r: by_record[r.pk]
    )
    return holds


def flagged_record_hold(*, record: PersonalDataRecord, reason: str, actor, now: dt.datetime | None = None):
    """Place a legal hold on one flagged record; ``ValidationError`` when it is not flagged or already held.
    Returns the ``ReviewDecision``."""
    with transaction.atomic():
        holds = flagged_records_hold(
            records=PersonalDataRecord.objects.filter(pk=record.pk), reason=reason, actor=actor, now=now
        )
        if not holds:
            current = PersonalDataRecord.objects.filter(pk=record.pk).first()
            why = "held" if current is not None and current.status == RecordStatus.FLAGGED else "not_flagged"
            raise ValidationError({"record": REFUSALS[why]})
        return ReviewDecision.objects.get(hold_id=holds[0].pk)


@transaction.atomic
def flagged_records_release(*, records, actor, now: dt.datetime | None = None) -> ReviewOutcome:
    """Let the erasure of flagged, unheld records with an erasing rule proceed at the next sweep. Records that
    are held, no longer flagged, or only flagged by a flag-only rule (those need ``flagged_records_erase``
    or ``flagged_records_keep_until``) are skipped. One ``ReviewDecision`` per record, audited."""
    now = now or timezone.now()
    wanted = list(records.values_list("pk", flat=True))
    eligible = (
        PersonalDataRecord.objects.select_for_update(of=("self",))
        .filter(pk__in=wanted, status=RecordStatus.FLAGGED, expiry_rule__action__in=engine.ERASING_ACTIONS)
        .exclude(held_q())
    )
    ids = list(eligible.values_list("pk", flat=True))
    PersonalDataRecord.objects.filter(pk__in=ids, erase_after__gt=now).update(erase_after=now)
    # One decision per record, in the audit trail (export_audit) with the queue's other decisions.
    approved = PersonalDataRecord.objects.filter(pk__in=ids).only("pk", "activity_id").order_by("pk")
    _decisions(approved, decision=ReviewDecisionKind.RELEASE, reason=APPROVAL_MESSAGE, actor=actor, now=now)
    logger.info("erasure approved for %d flagged record(s) by user %s", len(ids), actor.pk)
    return ReviewOutcome(done=len(ids), skipped=len(wanted) - len(ids))
