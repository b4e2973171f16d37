"""A person's records, erased or dated at their request (Art. 17, 21, consent withdrawn): through the one
eraser, under the same locks and with the same evidence as the sweep, except what a legal hold or a
statutory minimum still keeps (``statutory_keep``)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from subjects.choices import RecordStatus
from subjects.models import (
    DataSubject,
    PersonalDataRecord,
)

from .. import engine, selectors
from ..journal import journal_export_after_run, restore_pending
from ..locks import HOLD_LOCK_KEY, advisory_xact_lock
from ..models import LegalHold, RetentionRule, RetentionRun, RunStatus
from .erasure import erase_rows, subjects_forget

logger = logging.getLogger(__name__)


def statutory_minima(
    record: PersonalDataRecord, rules: dict[int, RetentionRule], *, now: dt.datetime
) -> list[tuple[RetentionRule, dt.date | None]]:
    """The statutory rules still keeping ``record`` at ``now``, each with its last day (None: its period
    has not started yet)."""
    dates = selectors.record_dates(record)
    tz = selectors.retention_time_zone()
    terms = engine.applicable_rules(
        [engine.RuleTerms.of(rule) for rule in rules.values()],
        data_category_id=record.data_category_id,
        named_rule_id=record.retention_rule_id,
    )
    running = []
    for term in terms:
        if not term.statutory:
            continue
        last_day = engine.rule_last_day(term, dates)
        if last_day is None or engine.start_of_day(last_day + dt.timedelta(days=1), tz) > now:
            running.append((rules[term.id], last_day))
    return running


def statutory_keep(record: PersonalDataRecord, rules: dict[int, RetentionRule], *, now: dt.datetime) -> str | None:
    """Why a statutory minimum still keeps ``record`` at ``now`` (its sentence and last day), or None."""
    category = record.data_category.localized("name")
    reasons = [
        f"{category} kept under a statutory rule whose period has not started: {rule.sentence()}"
        if last_day is None
        else f"{category} kept under a statutory rule until {last_day.isoformat()}: {rule.sentence()}"
        for rule, last_day in statutory_minima(record, rules, now=now)
    ]
    return "; ".join(reasons) or None


def _holds_in_force(record: PersonalDataRecord) -> list[int]:
    """Ids of the legal holds in force that cover ``record``. An outcome names a hold by its id only: its
    reason is the DPO's free text, which may name a person, and outcomes are read by system and auditor
    tokens; the reason stays on the hold, for the DPO."""
    holds = LegalHold.objects.in_force().filter(
        Q(record_id=record.pk)
        | Q(subject_id=record.subject_id)
        | Q(activity_id=record.activity_id)
        | Q(controller_id=record.activity.controller_id)
    )
    return list(holds.order_by("pk").values_list("pk", flat=True))


def _sorted_out(records, held_ids: set[int], *, now: dt.datetime) -> tuple[list[tuple], list[dict], list[dict]]:
    """The rows to erase (``ERASE_COLUMNS``), and a line per record erased and per record kept, with why."""
    rules_by_activity: dict[int, dict[int, RetentionRule]] = {}
    to_erase, erased, kept = [], [], []
    for record in records:
        line = {
            "record": record.pk,
            "activity": record.activity.reference,
            "data_category": record.data_category.code,
            "source_system": record.source_system,
        }
        if record.pk in held_ids:
            holds = _holds_in_force(record)
            reason = "; ".join(f"legal hold #{pk}" for pk in holds) or "legal hold"
            kept.append({**line, "reason": reason, "legal_holds": holds})
            continue
        if record.activity_id not in rules_by_activity:
            rules_by_activity[record.activity_id] = {
                rule.pk: rule for rule in RetentionRule.objects.filter(activity_id=record.activity_id)
            }
        activity_rules = rules_by_activity[record.activity_id]
        statutory = statutory_keep(record, activity_rules, now=now)
        if statutory:
            minima = [
                {"rule": rule.pk, "until": last_day.isoformat() if last_day else None}
                for rule, last_day in statutory_minima(record, activity_rules, now=now)
            ]
            kept.append({**line, "reason": statutory, "statutory": minima})
            continue
        action = "anonymise" if record.expiry_rule and record.expiry_rule.action == "anonymise" else "delete"
        to_erase.append(
            (
                record.pk,
                record.expiry_rule_id,
                action,
                record.activity_id,
                record.data_category_id,
                record.source_system,
                record.external_id,
            )
        )
        erased.append({**line, "action": action})
    return to_erase, erased, kept


def _subject_line(subject: DataSubject, *, forgotten: list[int], kept: list[dict]) -> dict:
    """Whether the subject's identifiers were cleared, or which records and holds keep them."""
    if subject.pk in forgotten:
        return {"identifiers": "cleared"}
    holds = LegalHold.objects.in_force().filter(subject=subject).order_by("pk").values_list("pk", flat=True)
    return {
        "identifiers": "kept",
        "kept_for": {"records": [line["record"] for line in kept], "legal_holds": list(holds)},
    }


def _run_finished(run: RetentionRun, *, to_erase: list[tuple], held: list[PersonalDataRecord]) -> None:
    """The run's counts, per deciding rule as a sweep counts them (held records under ``hold``), and its end."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _pk, rule_id, action, *_rest in to_erase:
        counts[str(rule_id)][action] += 1
    for record in held:
        # As the sweep counts what it left alone (the exports' "kept for a legal hold").
        counts[str(record.expiry_rule_id)]["hold"] += 1
    run.counts = {rule: dict(actions) for rule, actions in sorted(counts.items())}
    run.anonymised = sum(1 for row in to_erase if row[2] == "anonymise")
    run.deleted = sum(1 for row in to_erase if row[2] == "delete")
    run.skipped_for_hold = len(held)
    run.status, run.finished_at = RunStatus.FINISHED, timezone.now()
    run.heartbeat_at = run.finished_at
    run.save()


def subject_records_erase_preview(*, subject: DataSubject, now: dt.datetime | None = None) -> dict:
    """What ``subject_records_erase`` would do at ``now``, without doing it: the lines it would write as
    ``erased`` and ``kept``, and whether the subject's identifiers would be cleared. Nothing is locked:
    a hold placed before the erasure runs is still honoured by the erasure itself."""
    now = now or timezone.now()
    records = list(
        PersonalDataRecord.objects.filter(subject=subject)
        .exclude(status=RecordStatus.ERASED)
        .select_related("activity", "data_category", "expiry_rule")
        .order_by("pk")
    )
    held_ids = set(
        selectors.record_list_held(PersonalDataRecord.objects.filter(subject=subject)).values_list("pk", flat=True)
    )
    _to_erase, erased, kept = _sorted_out(records, held_ids, now=now)
    subject_held = LegalHold.objects.in_force().filter(subject=subject).exists()
    return {"erased": erased, "kept": kept, "identifiers": "kept" if kept or subject_held else "cleared"}


@transaction.atomic
def subject_records_erase(*, subject: DataSubject, now: dt.datetime | None = None, origin: str = "request") -> dict:
    """Erase every record of ``subject`` (Art. 17) through the sweep's eraser, except those a legal hold in
    force or a statutory minimum still running keeps. Records whose deciding rule anonymises are anonymised,
    all others deleted. The erasure is evidenced like a sweep's: a run (origin ``request``), one tombstone
    and one erasure-feed line per record. When nothing of the subject is kept, the subject is forgotten
    (``subjects_forget``). Returns ``{"erased": [...], "kept": [...], "run": id, "subject": {...}}``, each
    line with ids, category, action or reason (a hold by its id), ``subject`` saying whether its identifiers
    were cleared or what keeps them: never personal data values."""
    now = now or timezone.now()
    problem = restore_pending()
    if problem:
        # As for a sweep: tombstones made now would collide with the ones the restore must put back.
        raise ValidationError({"subject": f"Erasure refused until the restore is complete: {problem}"})
    # Shared with the sweep: a hold placed before this point is seen, none can be placed until commit.
    advisory_xact_lock(HOLD_LOCK_KEY, shared=True)
    records = list(
        PersonalDataRecord.objects.select_for_update(of=("self",))
        .filter(subject=subject)
        .exclude(status=RecordStatus.ERASED)
        .select_related("activity", "data_category", "expiry_rule")
        .order_by("pk")
    )
    held_ids = set(
        selectors.record_list_held(PersonalDataRecord.objects.filter(subject=subject)).values_list("pk", flat=True)
    )
    to_erase, erased, kept = _sorted_out(records, held_ids, now=now)
    run = RetentionRun.objects.create(
        started_at=now,
        heartbeat_at=now,
        as_of=now,
        controller=subject.controller,
        origin=origin,
        status=RunStatus.RUNNING,
    )
    forgotten = erase_rows(to_erase, run=run, now=now) if to_erase else []
    if subject.pk not in forgotten:
        # Nothing erased now (all erased before, or none), or the eraser found something still kept.
        forgotten = subjects_forget(subject_ids=[subject.pk], now=now)
    subject_line = _subject_line(subject, forgotten=forgotten, kept=kept)
    _run_finished(run, to_erase=to_erase, held=[record for record in records if record.pk in held_ids])
    if to_erase:
        transaction.on_commit(lambda: journal_export_after_run(run=run))
    logger.info("erasure request run %s: erased %s, kept %s", run.pk, len(erased), len(kept))
    return {"run": run.pk, "erased": erased, "kept": kept, "subject": subject_line}
