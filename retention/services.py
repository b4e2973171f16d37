"""Retention enforcement: the code that erases personal data. Read this before changing it.

What it guarantees
- A record is erased only when, under the row lock of the batch that erases it, it is flagged, its
  grace period is over, its retention (``expires_at``) is still over, its deciding rule still says
  anonymise or delete, and no legal hold in force covers it (record, subject, activity, controller).
- ``legal_hold_place`` takes a database lock that every sweep batch takes in shared mode, so once it has
  returned no batch can still erase what it holds; releasing the hold lets the next sweep take it.
- Every erasure writes, in the same transaction, one tombstone (no personal data; chained by hash under
  a lock, so concurrent sweeps make one linear chain), one erasure-feed line for the source system,
  and the run's counts. A batch is all of that or none of it: a worker killed mid-sweep leaves whole
  batches, and the next sweep picks up the rest.
- Batches are keyset pages by primary key, each one short transaction, ``SELECT ... FOR UPDATE SKIP
  LOCKED``: two sweeps at once share the work, never erase or count a record twice.
- Due records left alone under a hold are counted per deciding rule (``counts[rule]["hold"]``) by one
  grouped query at the end of the run, so once per run; ``skipped_for_hold`` is their sum.
- A dry run asks the same questions without locks or writes and reports exactly what a real run at the
  same ``now`` would do (flagging, then erasing what a zero grace period makes erasable at once).
- An erasure request (Art. 17) erases a subject's records through the same eraser (``erase_rows``), under
  the same locks, with the same evidence (a run of origin ``request``, tombstones, feed lines), except the
  records a legal hold in force or a statutory minimum still running keeps (``subject_records_erase``).
- The DPO's decision to erase a record a flag-only rule flagged (``review.py``) goes through the same eraser
  too (a run of origin ``review``), and is refused for a record under a hold or inside a statutory minimum.
- Whoever erases, the batch that erases the last record of a subject that nothing else keeps (no record
  left unerased, no hold on the subject) forgets the subject in the same transaction: its identifiers and
  the free text of its consents and requests are cleared, set-based (``subjects_forget``).

What it never does
- Never erases a record that is held or not yet expired; never one only flagged by a flag-only rule unless
  the DPO decides so in the review queue.
- Never loops over records in Python to change them: updates and deletes are set-based per batch, and
  the record tables have no delete signals or history that would copy personal data.
- Never puts personal data in evidence: tombstones, runs, logs and mails carry ids and counts only.

The decision is pure (``engine.py``), the doing is here, the scheduling is ``tasks.py``; the task, this
service and the management command share one name, ``retention_enforce``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from processing.models import Controller, DataCategory, ProcessingActivity
from ropa.audit.context import current_actor
from ropa.audit.models import AuditAction, AuditEvent
from ropa.audit.services import audit_log
from ropa.kernel.problems import Conflict
from subjects.choices import RecordStatus
from subjects.models import (
    ConsentRecord,
    DataSubject,
    DataSubjectRequest,
    DataSubjectRequestEvent,
    PersonalDataRecord,
)

from . import engine, selectors
from .expiry import PeriodEnd, expiry_expressions
from .journal import RestorePending, journal_export_after_run, restore_pending
from .locks import CHAIN_LOCK_KEY, HOLD_LOCK_KEY, advisory_xact_lock
from .models import ErasureNotice, LegalHold, RetentionRule, RetentionRun, RunStatus, Tombstone

logger = logging.getLogger(__name__)

DATE_FIELDS = frozenset(engine.TRIGGER_DATE_FIELDS.values())
# A sweep batch looks at ids (last, last + batch size x this]: bounded reads, few near-empty pages.
WINDOW_BATCHES = 25


def _insert_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Append evidence rows in one statement (COPY on PostgreSQL): thousands per batch, no model instances.
    Values must already be what the columns hold (ids, text, aware datetimes)."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg's copy() is not behind Django's error translation: without it a lost connection
            # would escape as psycopg's own error, past every ``except DatabaseError``.
            with connection.wrap_database_errors, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            rows = [tuple(adapt(v) if isinstance(v, dt.datetime) else v for v in row) for row in rows]
            placeholders = ", ".join(["%s"] * len(columns))
            # Table and column names come from the model, quoted; the values are parameters.
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)  # noqa: S608


# --- records ---------------------------------------------------------------------------------------
#
# What a write may change on a record that exists (``record_upsert``, ``record_update_dates``); every
# surface (API single and batch, admin, requests) comes through these, so the rules hold on every path:
# - An upsert changes only what it is given: an argument left out (``OMITTED``; a date not in ``dates``)
#   keeps what is stored, ``None`` clears it.
# - A legal hold in force that covers a record freezes what decides which holds and which rules cover it
#   (``HOLD_FROZEN_FIELDS``): moving it away would let the next sweep take it while the hold stands. Its
#   dates and payload may still change: the hold keeps it, whatever its expiry.
# - A record under an Art. 18 restriction is stored, not processed: nothing of it changes until the
#   restriction is lifted, except a trigger date the person sets by their own act (a consent withdrawal,
#   an objection; ``subject_act``), which only ever brings its erasure nearer.
# Both refusals are ``Conflict`` (a 409 in the API) naming the hold or request by id and the fields.


class Omitted:
    """The type of ``OMITTED``: an argument not given, so an upsert keeps what is stored."""

    def __repr__(self) -> str:
        return "OMITTED"


OMITTED = Omitted()

# Which holds and which rules cover a record follow from these: frozen while a hold in force covers it.
HOLD_FROZEN_FIELDS = ("subject", "activity", "data_category", "retention_rule")


def _validated_dates(dates: Mapping[str, dt.date | None] | None) -> dict[str, dt.date | None]:
    dates = dict(dates or {})
    unknown = sorted(set(dates) - DATE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "Not a retention date of a record."))
    for name, value in dates.items():
        if value is not None and (not isinstance(value, dt.date) or isinstance(value, dt.datetime)):
            raise ValidationError({name: "Give a date (not a date and time)."})
    return dates


def _apply_expiry(record: PersonalDataRecord, *, now: dt.datetime) -> None:
    """Set ``expires_at``/``expiry_rule`` from the engine; a flagged record no longer due goes back to active."""
    expiry = selectors.record_expiry(record)
    record.expires_at = expiry.at if expiry else None
    record.expiry_rule_id = expiry.rule.id if expiry else None
    if record.status == RecordStatus.FLAGGED and (record.expires_at is None or record.expires_at > now):
        record.status, record.flagged_at, record.erase_after = RecordStatus.ACTIVE, None, None


def _check_record(record: PersonalDataRecord) -> None:
    errors = {}
    if record.subject_id and record.subject.controller_id != record.activity.controller_id:
        errors["subject"] = "The subject belongs to another controller than the activity."
    rule = record.retention_rule
    if rule is not None:
        if rule.activity_id != record.activity_id:
            errors["retention_rule"] = "The rule belongs to another activity."
        elif rule.data_category_id not in (None, record.data_category_id):
            errors["retention_rule"] = "The rule is for another data category."
    if errors:
        raise ValidationError(errors)


def _same_json(a, b) -> bool:
    """Equal as JSON: ``1``, ``1.0`` and ``true`` are three values, as the source system sent them."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_json(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def record_changes(
    record: PersonalDataRecord,
    *,
    subject_id: int | Omitted = OMITTED,
    activity_id: int | Omitted = OMITTED,
    data_category_id: int | Omitted = OMITTED,
    retention_rule_id: int | Omitted | None = OMITTED,
    payload=OMITTED,
    dates: Mapping[str, dt.date | None] | None = None,
) -> list[str]:
    """The fields a write would change on the stored ``record``, in model order: those given whose value
    differs. What is ``OMITTED`` (a date not in ``dates``) is not compared: it stays as it is."""
    given = {
        "subject": (record.subject_id, subject_id),
        "activity": (record.activity_id, activity_id),
        "data_category": (record.data_category_id, data_category_id),
        "retention_rule": (record.retention_rule_id, retention_rule_id),
    }
    changed = [name for name, (old, new) in given.items() if new is not OMITTED and old != new]
    if payload is not OMITTED and not _same_json(record.payload, payload):
        changed.append("payload")
    dates = dates or {}
    changed += [name for name in sorted(DATE_FIELDS) if name in dates and getattr(record, name) != dates[name]]
    return changed


def record_holds_in_force(record: PersonalDataRecord) -> list[int]:
    """Ids of the legal holds in force covering ``record`` as stored: on it, its subject, its activity or
    its activity's controller."""
    scope = Q(record_id=record.pk) | Q(activity_id=record.activity_id)
    scope |= Q(controller_id__in=ProcessingActivity.objects.filter(pk=record.activity_id).values("controller_id"))
    if record.subject_id is not None:
        scope |= Q(subject_id=record.subject_id)
    return list(LegalHold.objects.in_force().filter(scope).order_by("pk").values_list("pk", flat=True))


def _field_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def record_change_refusal(
    record: PersonalDataRecord, changed: list[str], *, subject_act: bool = False
) -> Conflict | None:
    """Why the stored ``record`` may not take the changes ``changed`` (field names, ``record_changes``), or
    None: a restriction of processing freezes it whole (but for a ``subject_act``), a legal hold in force
    covering it freezes ``HOLD_FROZEN_FIELDS``. The conflict names the request or the holds by id only."""
    if not changed:
        return None
    if record.restricted_at is not None and not subject_act:
        by = record.restricted_by_id
        return Conflict(
            f"Record {record.pk} is restricted (Art. 18){f' by request #{by}' if by else ''}: it is stored, not "
            f"processed, so its {_field_list(changed)} cannot change until the restriction is lifted.",
            fields=changed,
            code="record_restricted",
            record=record.pk,
            request=by,
        )
    moved = [name for name in HOLD_FROZEN_FIELDS if name in changed]
    if moved:
        holds = record_holds_in_force(record)
        if holds:
            named = ", ".join(f"#{pk}" for pk in holds)
            return Conflict(
                f"Record {record.pk} is under legal hold {named}: its {_field_list(moved)} cannot change while "
                "the hold is in force, or the record would leave what the hold covers. Release the hold first.",
                fields=moved,
                code="record_held",
                record=record.pk,
                holds=holds,
            )
    return None


def record_expiry_warnings(
    *, rules: list[engine.RuleTerms], dates: Mapping[str, dt.date | None], expires_at: dt.datetime | None
) -> list[dict]:
    """What a source system and the DPO must know of a record's expiry: ``no_expiry`` when it has none,
    with why (the engine's words) and the trigger dates its rules (``applicable_rules``) still wait for.
    Field names and rule ids only."""
    if expires_at is not None:
        return []
    waiting = [rule for rule in rules if engine.rule_last_day(rule, dates) is None]
    fields = {engine.TRIGGER_DATE_FIELDS[rule.trigger] for rule in waiting}
    missing = sorted(name for name in fields if dates.get(name) is None)
    ids = sorted(rule.id for rule in waiting if rule.id is not None)
    explain = getattr(engine, "no_expiry_reason", None)
    reason = explain(rules, dates) if explain is not None else None
    if not rules:
        reason = "no retention rule of its activity applies to its data category; a rule for it must be added"
    elif not reason:
        named = ", ".join(f"#{pk}" for pk in ids)
        reason = (
            f"it waits for {_field_list(missing)} (rule {named})"
            if missing
            else f"rule {named} ends past the end of the calendar"
        )
    return [
        {
            "code": "no_expiry",
            "detail": "No retention rule of this activity gives this record a date, so no sweep will erase it "
            f"as it stands: {reason}.",
            "dates": missing,
            "rules": ids,
        }
    ]


def record_warnings(record: PersonalDataRecord) -> list[dict]:
    """``record_expiry_warnings`` of a stored record (an erased one has none)."""
    if record.status == RecordStatus.ERASED:
        return []
    rules = selectors.record_applicable_rules(
        activity_id=record.activity_id,
        data_category_id=record.data_category_id,
        named_rule_id=record.retention_rule_id,
    )
    return record_expiry_warnings(rules=rules, dates=selectors.record_dates(record), expires_at=record.expires_at)


@transaction.atomic
def subject_register(
    *, controller: Controller, key: str | None = None, identifiers: Mapping | None = None
) -> DataSubject:
    """Find or create a data subject by its pseudonymous key (a new key when none is given). Identifiers
    given replace the stored ones; None keeps them."""
    if key:
        subject, created = DataSubject.objects.get_or_create(
            controller=controller, key=key, defaults={"identifiers": dict(identifiers or {})}
        )
        if not created and identifiers is not None and subject.identifiers != dict(identifiers):
            subject.identifiers = dict(identifiers)
            subject.full_clean()
            subject.save(update_fields=["identifiers"])
        return subject
    subject = DataSubject(controller=controller, identifiers=dict(identifiers or {}))
    subject.full_clean()
    subject.save()
    return subject


@dataclass(frozen=True)
class RecordRegistration:
    """What ``record_upsert`` did: the record, ``created``, ``updated`` or ``unchanged``, and the fields it
    changed."""

    record: PersonalDataRecord
    outcome: str
    changed: tuple[str, ...] = ()


@transaction.atomic
def record_upsert(
    *,
    subject: DataSubject,
    activity: ProcessingActivity,
    data_category: DataCategory,
    source_system: str,
    external_id: str,
    payload=OMITTED,
    dates: Mapping[str, dt.date | None] | None = None,
    retention_rule: RetentionRule | Omitted | None = OMITTED,
    now: dt.datetime | None = None,
) -> RecordRegistration:
    """Register a personal-data record, or bring the one with the same ``source_system`` and
    ``external_id`` in line with what is given (idempotent: the same call twice changes nothing). What is
    left out is kept (``payload``, ``retention_rule``, dates not in ``dates``); ``None`` clears. A record
    never moves to another subject; a hold or a restriction refuses what it freezes (``Conflict``, see
    above). Computes ``expires_at``."""
    now = now or timezone.now()
    dates = _validated_dates(dates)
    if not source_system or not external_id:
        raise ValidationError("A record needs its source system and its id there.")
    record = (
        PersonalDataRecord.objects.select_for_update()
        .filter(source_system=source_system, external_id=external_id)
        .first()
    )
    if record is None:
        record = PersonalDataRecord(source_system=source_system, external_id=external_id)
        record.payload = None if payload is OMITTED else payload
        record.retention_rule = None if retention_rule is OMITTED else retention_rule
        changed: list[str] = []
    else:
        changed = record_changes(
            record,
            subject_id=subject.pk,
            activity_id=activity.pk,
            data_category_id=data_category.pk,
            retention_rule_id=OMITTED if retention_rule is OMITTED else getattr(retention_rule, "pk", None),
            payload=payload,
            dates=dates,
        )
        if not changed:
            return RecordRegistration(record, "unchanged")
        if set(changed) & set(HOLD_FROZEN_FIELDS):
            # Shared with the sweep: a hold being placed is seen, none is placed until this move commits.
            advisory_xact_lock(HOLD_LOCK_KEY, shared=True)
        refusal = record_change_refusal(record, changed)
        if refusal is not None:
            raise refusal
        if "subject" in changed:
            raise ValidationError({"subject": "This record is registered for another subject."})
        if payload is not OMITTED:
            record.payload = payload
        if retention_rule is not OMITTED:
            record.retention_rule = retention_rule
    record.subject, record.activity, record.data_category = subject, activity, data_category
    for name, value in dates.items():
        setattr(record, name, value)
    record.full_clean(validate_unique=False, validate_constraints=False)
    _check_record(record)
    _apply_expiry(record, now=now)
    if record.pk is not None:
        record.save()
        return RecordRegistration(record, "updated", tuple(changed))
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:
        # Registered by a concurrent call a moment ago: update that one instead.
        if not PersonalDataRecord.objects.filter(source_system=source_system, external_id=external_id).exists():
            raise
        return record_upsert(
            subject=subject,
            activity=activity,
            data_category=data_category,
            source_system=source_system,
            external_id=external_id,
            payload=payload,
            dates=dates,
            retention_rule=retention_rule,
            now=now,
        )
    return RecordRegistration(record, "created")


def record_register(
    *,
    subject: DataSubject,
    activity: ProcessingActivity,
    data_category: DataCategory,
    source_system: str,
    external_id: str,
    payload=OMITTED,
    dates: Mapping[str, dt.date | None] | None = None,
    retention_rule: RetentionRule | Omitted | None = OMITTED,
    now: dt.datetime | None = None,
) -> PersonalDataRecord:
    """``record_upsert``, returning the record only."""
    return record_upsert(
        subject=subject,
        activity=activity,
        data_category=data_category,
        source_system=source_system,
        external_id=external_id,
        payload=payload,
        dates=dates,
        retention_rule=retention_rule,
        now=now,
    ).record


@transaction.atomic
def record_update_dates(
    *,
    record: PersonalDataRecord,
    dates: Mapping[str, dt.date | None],
    now: dt.datetime | None = None,
    subject_act: bool = False,
) -> PersonalDataRecord:
    """Change trigger dates of a record (the contract ended, consent was withdrawn, ...) and recompute its
    expiry. Only the dates given change; ``None`` clears one. An erased record cannot change; a restricted
    one neither (``Conflict``), unless the date records the person's own act (``subject_act``: a consent
    withdrawal, an objection)."""
    now = now or timezone.now()
    dates = _validated_dates(dates)
    record = PersonalDataRecord.objects.select_for_update().get(pk=record.pk)
    if record.status == RecordStatus.ERASED:
        raise ValidationError("This record has been erased.")
    changed = record_changes(record, dates=dates)
    if not changed:
        return record
    refusal = record_change_refusal(record, changed, subject_act=subject_act)
    if refusal is not None:
        raise refusal
    for name in changed:
        setattr(record, name, dates[name])
    _apply_expiry(record, now=now)
    record.save()
    return record


def _expiry_groups(activity_id: int):
    """The records not erased of an activity, per (data category, named rule), with the SQL expressions
    of their ``expires_at`` and deciding rule under the activity's rules as they are now."""
    tz_name = settings.ROPA_RETENTION_TIME_ZONE
    rules = selectors.rule_terms_for_activity(activity_id)
    records = PersonalDataRecord.objects.exclude(status=RecordStatus.ERASED).filter(activity_id=activity_id)
    groups = records.order_by().values_list("data_category_id", "retention_rule_id").distinct()
    for category_id, named_id in list(groups):
        applicable = engine.applicable_rules(rules, data_category_id=category_id, named_rule_id=named_id)
        expires, deciding = expiry_expressions(applicable, tz_name=tz_name)
        yield records.filter(data_category_id=category_id, retention_rule_id=named_id), expires, deciding


def record_expiry_recompute(
    *, activity_ids: list[int] | None = None, now: dt.datetime | None = None, chunk: int = 20000
) -> int:
    """Recompute ``expires_at`` (and the deciding rule) in SQL for every record not erased of the given
    activities (all when None), in primary-key chunks of one short transaction each; flagged records
    that are no longer due go back to active. Returns the number of records recomputed."""
    now = now or timezone.now()
    records = PersonalDataRecord.objects.exclude(status=RecordStatus.ERASED)
    if activity_ids is None:
        activity_ids = list(records.order_by().values_list("activity_id", flat=True).distinct())
    total = 0
    for activity_id in activity_ids:
        of_activity = records.filter(activity_id=activity_id)
        for group, expires, deciding in _expiry_groups(activity_id):
            bounds = group.aggregate(low=Min("pk"), high=Max("pk"))
            if bounds["low"] is None:
                continue
            for low in range(bounds["low"], bounds["high"] + 1, chunk):
                with transaction.atomic():
                    total += group.filter(pk__gte=low, pk__lt=low + chunk).update(
                        expires_at=expires, expiry_rule_id=deciding
                    )
        with transaction.atomic():
            of_activity.filter(status=RecordStatus.FLAGGED).exclude(expires_at__lte=now).update(
                status=RecordStatus.ACTIVE, flagged_at=None, erase_after=None
            )
    return total


# --- rule changes ----------------------------------------------------------------------------------
#
# A rule changed in the admin, over the API or by a register import can shorten its records' retention.
# Two guarantees hold on every path, whoever saves the rule (``apps.py`` calls ``rule_write_guard``
# before any rule is saved or deleted):
# - A statutory rule that still keeps records (not erased, its end for them in the future or not known
#   yet) is never weakened: deleted, made non-statutory, its period possibly shortened, its trigger, data
#   category or activity changed. ``StatutoryRuleWeakened`` (a ``Conflict``: a 409 in the API, a form
#   error in the admin, a refused import) says which rule and how many records it keeps, unless the write
#   runs inside ``rule_changes(override_reason=...)``: then the reason is audited with the rule.
# - ``rule_changed`` recomputes the expiry of the activity's records and says whose expiry moved earlier
#   (``RetentionChange``: ids and counts only), in the transaction of the change, so the surface that made
#   it lists them before any sweep can act. Legal holds need no check here: the sweep leaves every held
#   record alone, whatever its expiry.

RETENTION_CHANGE_IDS = 100

# ``rule_changes`` blocks in progress (their activities' recompute waits for the end of the block), and the
# override reasons given in them (rule id -> reason; None: any rule of the block).
_rules_deferred: ContextVar[tuple[RuleChangeOutcome, ...]] = ContextVar("retention_rules_deferred", default=())
_rule_overrides: ContextVar[Mapping[int | None, str] | None] = ContextVar("retention_rule_overrides", default=None)


@dataclass(frozen=True)
class RetentionChange:
    """What a change of rules did to the records' expiry: ``earlier`` records now expire earlier than
    before (or got an expiry where they had none), ``records`` are the first ids of them, ``now_due`` of
    them are already past their new expiry (the next sweep flags them, unless a hold keeps them)."""

    earlier: int = 0
    records: tuple[int, ...] = ()
    now_due: int = 0

    def __add__(self, other: RetentionChange) -> RetentionChange:
        ids = tuple(sorted({*self.records, *other.records})[:RETENTION_CHANGE_IDS])
        return RetentionChange(self.earlier + other.earlier, ids, self.now_due + other.now_due)

    def as_dict(self) -> dict:
        return {"earlier": self.earlier, "records": list(self.records), "now_due": self.now_due}


@dataclass(frozen=True)
class RuleWeakening:
    """A statutory rule a change would weaken while it still keeps records."""

    rule_id: int
    text: str
    records_kept: int
    changes: tuple[str, ...]

    def message(self) -> str:
        what = "deleting it" if self.changes == ("deleted",) else f"changing its {_field_list(list(self.changes))}"
        return (
            f"Rule {self.rule_id} (“{self.text}”) is a statutory minimum that still keeps {self.records_kept} "
            f"record(s): {what} could erase them before the law allows."
        )

    def as_dict(self) -> dict:
        return {"id": self.rule_id, "text": self.text, "records_kept": self.records_kept, "changes": list(self.changes)}


class StatutoryRuleWeakened(Conflict):
    """A change refused because it weakens statutory rules that still keep records (see above)."""

    def __init__(self, weakenings: list[RuleWeakening]):
        self.weakenings = list(weakenings)
        detail = " ".join(w.message() for w in self.weakenings) + (
            " Nothing was changed. To change it anyway, give the reason for overriding the statutory minimum."
        )
        super().__init__(
            detail,
            fields=["retention_rules"],
            code="statutory_rule_weakened",
            rules=[w.as_dict() for w in self.weakenings],
        )


# A period of N months or years lasts between 28 x N and 31 x N days, whatever it starts on.
def _period_days(value: int | None, unit: str) -> tuple[int, int]:
    if not value:
        return 0, 0
    if unit in ("days", "weeks"):
        days = value * (7 if unit == "weeks" else 1)
        return days, days
    months = value * (12 if unit == "years" else 1)
    return 28 * months, 31 * months


def _may_end_earlier(before: RetentionRule, after: RetentionRule) -> bool:
    """Whether ``after``'s period can end before ``before``'s for some start date (same trigger)."""
    old_value, old_unit = before.duration_value or 0, before.duration_unit or ""
    new_value, new_unit = after.duration_value or 0, after.duration_unit or ""
    calendar = {"months": ("m", 1), "years": ("m", 12), "days": ("d", 1), "weeks": ("d", 7)}
    old_kind, old_factor = calendar.get(old_unit, ("d", 0))
    new_kind, new_factor = calendar.get(new_unit, ("d", 0))
    if not old_value:
        return False  # nothing ends before the trigger date itself
    if not new_value:
        return True
    if old_kind == new_kind:
        return new_value * new_factor < old_value * old_factor
    return _period_days(new_value, new_unit)[0] < _period_days(old_value, old_unit)[1]


def rule_records_kept(rule: RetentionRule, *, now: dt.datetime | None = None) -> int:
    """How many records ``rule`` (as stored) still keeps if it is statutory: records of its activity (and
    data category) not erased whose end under it is in the future or not known yet."""
    now = now or timezone.now()
    records = PersonalDataRecord.objects.exclude(status=RecordStatus.ERASED).filter(activity_id=rule.activity_id)
    if rule.data_category_id is not None:
        records = records.filter(data_category_id=rule.data_category_id)
    terms = engine.RuleTerms.of(rule)
    end = PeriodEnd(F(engine.TRIGGER_DATE_FIELDS[terms.trigger]), rule=terms, tz_name=settings.ROPA_RETENTION_TIME_ZONE)
    return records.annotate(_rule_end=end).filter(Q(_rule_end__isnull=True) | Q(_rule_end__gt=now)).count()


def rule_weakening(
    *, stored: RetentionRule, new: RetentionRule | None, now: dt.datetime | None = None
) -> RuleWeakening | None:
    """Whether writing ``new`` over the ``stored`` rule (``None``: deleting it) weakens a statutory minimum
    that still keeps records, and how; None when it does not (or keeps no record any more)."""
    if not stored.statutory:
        return None
    if new is None:
        changes = ["deleted"]
    else:
        changes = []
        if not new.statutory:
            changes.append("statutory")
        if new.trigger != stored.trigger:
            changes.append("trigger")
        if new.trigger == stored.trigger and _may_end_earlier(stored, new):
            changes.append("duration")
        if stored.data_category_id != new.data_category_id and new.data_category_id is not None:
            changes.append("data_category")  # narrowed to a category, or moved to another one
        if new.activity_id != stored.activity_id:
            changes.append("activity")
    if not changes:
        return None
    kept = rule_records_kept(stored, now=now)
    if not kept:
        return None
    return RuleWeakening(stored.pk, stored.sentence("en"), kept, tuple(changes))


def _override_reason(rule_id: int) -> str | None:
    overrides = _rule_overrides.get() or {}
    return overrides.get(rule_id) or overrides.get(None)


def rule_write_guard(*, rule: RetentionRule, delete: bool = False, now: dt.datetime | None = None) -> None:
    """Before ``rule`` is saved (or deleted): refuse to weaken a statutory minimum that still keeps records
    (``StatutoryRuleWeakened``) unless an override reason was given for it, which is then audited with the
    rule, its changes and the number of records it kept. Every path comes here (``apps.py``)."""
    if rule.pk is None:
        return
    stored = RetentionRule.objects.filter(pk=rule.pk).first()
    if stored is None:
        return
    weakening = rule_weakening(stored=stored, new=None if delete else rule, now=now)
    if weakening is None:
        return
    reason = _override_reason(rule.pk)
    if not reason:
        raise StatutoryRuleWeakened([weakening])
    audit_log(
        action=AuditAction.DELETE if delete else AuditAction.UPDATE,
        obj=stored,
        object_repr=weakening.text[:200],
        changed_fields=["statutory override", *weakening.changes],
        changes={
            "override_reason": [None, reason],
            "records_kept": [weakening.records_kept, None],
            "changes": [None, list(weakening.changes)],
        },
    )
    logger.info(
        "statutory rule %s weakened by override (%s); it kept %s record(s)",
        stored.pk,
        ", ".join(weakening.changes),
        weakening.records_kept,
    )


@dataclass
class RuleChangeOutcome:
    """Filled in when a ``rule_changes`` block ends: what its changes did to the records' expiry."""

    activity_id: int
    change: RetentionChange = RetentionChange()
    changed: bool = False  # a rule of the activity was saved or deleted in the block


@contextlib.contextmanager
def rule_changes(
    *,
    activity_id: int,
    override_reason: str | Mapping[int | None, str] | None = None,
    now: dt.datetime | None = None,
) -> Iterator[RuleChangeOutcome]:
    """Change several rules of one activity in the block (inside a transaction): their records' expiry is
    recomputed once, when the block ends, and the outcome says whose moved earlier (``rule_changed``).
    ``override_reason`` (one reason for every rule, or one per rule id) lets the block weaken statutory
    rules that still keep records; each such change is audited with its reason (``rule_write_guard``)."""
    outcome = RuleChangeOutcome(activity_id)
    if isinstance(override_reason, str):
        override_reason = {None: override_reason}
    reasons = {key: reason.strip() for key, reason in (override_reason or {}).items() if (reason or "").strip()}
    deferred = _rules_deferred.set((*_rules_deferred.get(), outcome))
    overrides = _rule_overrides.set({**(_rule_overrides.get() or {}), **reasons})
    try:
        yield outcome
    finally:
        _rule_overrides.reset(overrides)
        _rules_deferred.reset(deferred)
    if outcome.changed:
        outcome.change = rule_changed(activity_id=activity_id, now=now)


def _expiry_moved_earlier(activity_id: int, *, now: dt.datetime) -> RetentionChange:
    """Records of the activity whose expiry the recompute is about to move earlier: the same expressions
    ``record_expiry_recompute`` writes, compared with what is stored, before it writes them."""
    change = RetentionChange()
    for group, expires, _deciding in _expiry_groups(activity_id):
        moved = group.annotate(_new_expiry=expires).filter(
            Q(expires_at__isnull=True, _new_expiry__isnull=False) | Q(_new_expiry__lt=F("expires_at"))
        )
        counts = moved.aggregate(n=Count("pk"), due=Count("pk", filter=Q(_new_expiry__lte=now)))
        if counts["n"]:
            ids = tuple(moved.order_by("pk").values_list("pk", flat=True)[:RETENTION_CHANGE_IDS])
            change += RetentionChange(counts["n"], ids, counts["due"])
    return change


def rule_changed(*, activity_id: int, now: dt.datetime | None = None) -> RetentionChange:
    """A rule of ``activity_id`` was saved or removed (admin, import, API): its records' expiry follows,
    in the same transaction, so a sweep never sees a rule and expiries that disagree. Returns whose expiry
    moved earlier. Inside a ``rule_changes`` block of the activity it waits for the end of the block."""
    waiting = [block for block in _rules_deferred.get() if block.activity_id == activity_id]
    if waiting:
        waiting[0].changed = True  # the outermost block recomputes once, at its end
        return RetentionChange()
    now = now or timezone.now()
    change = _expiry_moved_earlier(activity_id, now=now)
    record_expiry_recompute(activity_ids=[activity_id], now=now)
    if change.earlier:
        logger.info(
            "rules of activity %s changed: %s record(s) expire earlier, %s of them due now",
            activity_id,
            change.earlier,
            change.now_due,
        )
    return change


# --- legal holds -----------------------------------------------------------------------------------


@transaction.atomic
def legal_hold_place(
    *,
    reason: str,
    actor,
    subject: DataSubject | None = None,
    record: PersonalDataRecord | None = None,
    activity: ProcessingActivity | None = None,
    controller: Controller | None = None,
    now: dt.datetime | None = None,
) -> LegalHold:
    """Freeze erasure of everything in one scope (a subject, a record, an activity or a controller) until
    released. Waits for sweep batches in flight; none that starts after it can erase what it holds."""
    scopes = {"subject": subject, "record": record, "activity": activity, "controller": controller}
    given = {name: value for name, value in scopes.items() if value is not None}
    if len(given) != 1:
        raise ValidationError("A legal hold covers exactly one subject, record, activity or controller.")
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why erasure is frozen."})
    advisory_xact_lock(HOLD_LOCK_KEY)
    hold = LegalHold(**given, reason=reason.strip(), placed_by=actor, placed_at=now or timezone.now())
    hold.full_clean()
    hold.save()
    logger.info("legal hold %s placed on %s", hold.pk, hold.scope_label())
    return hold


@transaction.atomic
def legal_hold_release(*, hold: LegalHold, actor, reason: str = "", now: dt.datetime | None = None) -> LegalHold:
    """Lift a hold; the next sweep takes what it held (a hold already released stays as it was)."""
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is None:
        hold.released_at, hold.released_by, hold.release_reason = now or timezone.now(), actor, reason.strip()
        hold.save(update_fields=["released_at", "released_by", "release_reason"])
        logger.info("legal hold %s released", hold.pk)
    return hold


# --- the erasure feed ------------------------------------------------------------------------------


@transaction.atomic
def erasure_confirm(*, source_system: str, external_ids: list[str], now: dt.datetime | None = None) -> int:
    """The source system confirms it erased these ids too: the feed forgets them. Returns lines confirmed."""
    return ErasureNotice.objects.filter(
        source_system=source_system, external_id__in=external_ids, confirmed_at__isnull=True
    ).update(confirmed_at=now or timezone.now(), external_id=None)


# --- data-subject requests -------------------------------------------------------------------------


def records_trigger_date_set(*, records, field: str, day: dt.date, now: dt.datetime | None = None) -> list[dict]:
    """Set the trigger date ``field`` to ``day`` on every record of ``records`` not erased where it is still
    blank (the first withdrawal or objection stands), and recompute their expiry, so the next sweep takes
    what has run out. Returns, per record, its id and new ``expires_at`` (ids and dates only).

    Its callers record the person's own act (a consent withdrawal, an objection), so a restricted record
    takes the date too (``subject_act``): restriction keeps the data stored, not the person's choice out
    of it, and the date only ever brings erasure nearer."""
    _validated_dates({field: day})
    changed = []
    for record in records.exclude(status=RecordStatus.ERASED).filter(**{f"{field}__isnull": True}).order_by("pk"):
        record = record_update_dates(record=record, dates={field: day}, now=now, subject_act=True)
        expires = record.expires_at.astimezone(dt.UTC).isoformat() if record.expires_at else None
        changed.append({"record": record.pk, "expires_at": expires})
    return changed


def statutory_keep(record: PersonalDataRecord, rules: dict[int, RetentionRule], *, now: dt.datetime) -> str | None:
    """Why a statutory minimum still keeps ``record`` at ``now`` (its sentence and last day), or None."""
    dates = selectors.record_dates(record)
    tz = selectors.retention_time_zone()
    terms = engine.applicable_rules(
        [engine.RuleTerms.of(rule) for rule in rules.values()],
        data_category_id=record.data_category_id,
        named_rule_id=record.retention_rule_id,
    )
    reasons = []
    for term in terms:
        if not term.statutory:
            continue
        last_day = engine.rule_last_day(term, dates)
        sentence = rules[term.id].sentence()
        category = record.data_category.localized("name")
        if last_day is None:
            reasons.append(f"{category} kept under a statutory rule whose period has not started: {sentence}")
        elif engine.start_of_day(last_day + dt.timedelta(days=1), tz) > now:
            reasons.append(f"{category} kept under a statutory rule until {last_day.isoformat()}: {sentence}")
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
        statutory = statutory_keep(record, rules_by_activity[record.activity_id], now=now)
        if statutory:
            kept.append({**line, "reason": statutory})
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
    if subject.pk in forgotten:
        subject_line = {"identifiers": "cleared"}
    else:
        holds = LegalHold.objects.in_force().filter(subject=subject).order_by("pk").values_list("pk", flat=True)
        subject_line = {
            "identifiers": "kept",
            "kept_for": {"records": [line["record"] for line in kept], "legal_holds": list(holds)},
        }
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _pk, rule_id, action, *_rest in to_erase:
        counts[str(rule_id)][action] += 1
    held_records = [record for record in records if record.pk in held_ids]
    for record in held_records:
        # Per deciding rule, as the sweep counts what it left alone (the exports' "kept for a legal hold").
        counts[str(record.expiry_rule_id)]["hold"] += 1
    run.counts = {rule: dict(actions) for rule, actions in sorted(counts.items())}
    run.anonymised = sum(1 for row in to_erase if row[2] == "anonymise")
    run.deleted = sum(1 for row in to_erase if row[2] == "delete")
    run.skipped_for_hold = len(held_records)
    run.status, run.finished_at = RunStatus.FINISHED, timezone.now()
    run.heartbeat_at = run.finished_at
    run.save()
    if to_erase:
        transaction.on_commit(lambda: journal_export_after_run(run=run))
    logger.info("erasure request run %s: erased %s, kept %s", run.pk, len(erased), len(kept))
    return {"run": run.pk, "erased": erased, "kept": kept, "subject": subject_line}


# --- erasing -----------------------------------------------------------------------------------------


def record_ref(source_system: str, external_id: str | None) -> str:
    """What a tombstone keeps to recognise its record after a restore: a keyed hash of the source system and
    its id, so the tombstone holds no identifier (blank when the record had no id left)."""
    if external_id is None:
        return ""
    return _record_ref(source_system, external_id, settings.SECRET_KEY)


def _record_ref(source_system: str, external_id: str, secret: str) -> str:
    value = f"{source_system}\n{external_id}"
    return salted_hmac("ropa.retention.record_ref", value, secret=secret, algorithm="sha256").hexdigest()


def record_ref_matches(ref: str, source_system: str, external_id: str | None) -> bool:
    """Is ``ref`` the tombstone reference of this record, under the secret key or one of its fallbacks (a
    tombstone written before the key was rotated)?"""
    if external_id is None:
        return ref == ""
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return any(constant_time_compare(ref, _record_ref(source_system, external_id, key)) for key in keys)


# What stays of a forgotten subject: its pseudonymous key, and of its consents and requests what proves they
# were handled (ids, purposes, types, dates, statuses, outcomes and events with ids and counts). What goes:
# every field in which the person or the DPO's words about the person can sit (docs/subjects.md).
FORGOTTEN_CONSENT_TEXTS = ("source", "evidence", "withdrawal_source")
FORGOTTEN_REQUEST_TEXTS = ("source", "note", "extension_reason", "rejection_reason")
FORGOTTEN_EVENT_TEXTS = ("reason",)


def subjects_forget(*, subject_ids, now: dt.datetime | None = None) -> list[int]:
    """Forget each of ``subject_ids`` of whom nothing is kept any more (no record left that is not erased, no
    legal hold in force on the subject): clear its identifiers and the free text of its consents, its
    requests and their events (``FORGOTTEN_*_TEXTS``); its key stays, for the request history. Set-based, a
    few statements whatever the number of subjects, in the caller's transaction (the sweep's: the batch that
    erased the last record). Audited once per controller and call: field names and the subjects' ids. Returns
    the ids forgotten."""
    ids = sorted(set(subject_ids))
    if not ids:
        return []
    kept = PersonalDataRecord.objects.filter(subject_id=OuterRef("pk")).exclude(status=RecordStatus.ERASED)
    held = LegalHold.objects.in_force().filter(subject_id=OuterRef("pk"))
    forgotten = list(
        DataSubject.objects.filter(pk__in=ids)
        .exclude(Exists(kept))
        .exclude(Exists(held))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not forgotten:
        return []
    # Only rows that still hold something are written.
    DataSubject.objects.filter(pk__in=forgotten).exclude(identifiers={}).update(identifiers={})
    blank = dict.fromkeys(FORGOTTEN_CONSENT_TEXTS, "")
    ConsentRecord.objects.filter(subject_id__in=forgotten).exclude(**blank).update(**blank)
    blank = dict.fromkeys(FORGOTTEN_REQUEST_TEXTS, "")
    DataSubjectRequest.objects.filter(subject_id__in=forgotten).exclude(**blank).update(**blank)
    blank = dict.fromkeys(FORGOTTEN_EVENT_TEXTS, "")
    DataSubjectRequestEvent.objects.filter(request__subject_id__in=forgotten).exclude(**blank).update(**blank)
    # One audit event per controller and call (per sweep batch), naming the subjects by id: a row per subject
    # would cost the sweep more than the forgetting itself; one per controller lets each controller's users
    # read theirs (``AuditEvent.controller_id``).
    actor = current_actor()
    by_controller: dict[int, list[int]] = {}
    for pk, controller_id in (
        DataSubject.objects.filter(pk__in=forgotten).order_by("pk").values_list("pk", "controller_id")
    ):
        by_controller.setdefault(controller_id, []).append(pk)
    for controller_id, pks in sorted(by_controller.items()):
        AuditEvent(
            at=now or timezone.now(),
            actor_user=actor.user if getattr(actor.user, "pk", None) else None,
            actor_token=actor.token_key,
            actor=actor.label[:200],
            controller_id=controller_id,
            action=AuditAction.ERASURE,
            object_type=DataSubject._meta.label_lower,
            object_id=str(pks[0]),
            object_repr=f"{len(pks)} {DataSubject._meta.verbose_name_plural} forgotten"[:200],
            changed_fields=[
                "identifiers",
                *(f"consents.{name}" for name in FORGOTTEN_CONSENT_TEXTS),
                *(f"requests.{name}" for name in FORGOTTEN_REQUEST_TEXTS),
                *(f"requests.events.{name}" for name in FORGOTTEN_EVENT_TEXTS),
            ],
            changes={"subjects": pks},
        ).save()
    logger.info("%d data subject(s) forgotten: nothing of them is kept any more", len(forgotten))
    return forgotten


def records_erase(
    *, by_action: Mapping[str, list[int]], erased_at: dt.datetime, now: dt.datetime | None = None
) -> list[int]:
    """Anonymise or delete the given records, set-based. The one place records are erased: the sweep, an
    erasure request and the DPO's decision in the review queue (through ``erase_rows``), and re-erasure after
    a restore (``reapply.erasures_reapply``). Callers lock, check holds and write evidence. The subjects of
    whom nothing is kept any more then are forgotten in the same transaction (``subjects_forget``); returns
    their ids."""
    erasing = [pk for action in ("anonymise", "delete") for pk in by_action.get(action, ())]
    subject_ids = list(
        PersonalDataRecord.objects.filter(pk__in=erasing, subject__isnull=False)
        .order_by()
        .values_list("subject_id", flat=True)
        .distinct()
    )
    if by_action.get("anonymise"):
        # Statistics stay (activity, category, dates, source system); whatever identifies goes.
        PersonalDataRecord.objects.filter(pk__in=by_action["anonymise"]).update(
            status=RecordStatus.ERASED,
            erased_at=erased_at,
            payload=None,
            subject=None,
            external_id=None,
            restricted_at=None,
            restricted_by=None,
            kept_until=None,
            updated_at=now or erased_at,
        )
    if by_action.get("delete"):
        PersonalDataRecord.objects.filter(pk__in=by_action["delete"]).delete()
    return subjects_forget(subject_ids=subject_ids, now=now or erased_at)


# --- the sweep -------------------------------------------------------------------------------------


# What erasing a record needs to know of it, in this order (``erase_rows``).
ERASE_COLUMNS = (
    "pk",
    "expiry_rule_id",
    "expiry_rule__action",
    "activity_id",
    "data_category_id",
    "source_system",
    "external_id",
)


def erase_rows(rows: list[tuple], *, run: RetentionRun, now: dt.datetime) -> list[int]:
    """Erase the records of ``rows`` (``ERASE_COLUMNS``, the action being ``anonymise`` or ``delete``), which
    the caller has locked and re-checked: anonymise or delete them set-based, put the ones with an id in
    their source system's erasure feed, and extend the tombstone chain with one tombstone each, for ``run``.
    The one eraser: the sweep, the erasure of a subject's records on request and the DPO's decision in the
    review queue all come here. Returns the ids of the subjects forgotten (``records_erase``)."""
    by_action = defaultdict(list)
    for row in rows:
        by_action[row[2]].append(row[0])
    forgotten = records_erase(by_action=by_action, erased_at=now)
    _insert_rows(
        ErasureNotice,
        ("source_system", "external_id", "record_id", "action", "erased_at"),
        [(src, ext, pk, action, now) for pk, _rule, action, _act, _cat, src, ext in rows if ext is not None],
    )
    # The chain: one writer at a time, held only for the few statements that extend it.
    advisory_xact_lock(CHAIN_LOCK_KEY)
    head = Tombstone.objects.order_by("-sequence").values_list("sequence", "hash").first()
    sequence, previous = head if head else (0, engine.GENESIS_HASH)
    tombstones = []
    for pk, rule_id, action, activity_id, category_id, source_system, external_id in rows:
        sequence += 1
        fields = {
            "sequence": sequence,
            "record_id": pk,
            "activity_id": activity_id,
            "data_category_id": category_id,
            "rule_id": rule_id,
            "action": action,
            "source_system": source_system,
            "run_id": run.pk,
            "erased_at": now,
        }
        digest = engine.tombstone_hash(fields, previous)
        tombstones.append((*fields.values(), previous, digest, record_ref(source_system, external_id)))
        previous = digest
    _insert_rows(Tombstone, (*engine.TOMBSTONE_HASHED_FIELDS, "previous_hash", "hash", "record_ref"), tombstones)
    return forgotten


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
                with transaction.atomic():
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
    retention_run_mark_interrupted()
    started = timezone.now()
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
    recipients = list(settings.ROPA_DPO_EMAILS)
    if not recipients:
        return
    base = settings.ROPA_BASE_URL.rstrip("/")
    waiting = PersonalDataRecord.objects.flagged().count()
    lines = [
        f"The retention run of {run.as_of:%Y-%m-%d %H:%M %Z} flagged {run.flagged} record(s) for erasure.",
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
        f"Review queue: {base}{reverse('retention-review')}",
        f"Flagged records: {base}{reverse('admin:subjects_personaldatarecord_changelist')}?status__exact=flagged",
        f"This run: {base}{reverse('admin:retention_retentionrun_change', args=[run.pk])}",
        f"Legal holds: {base}{reverse('admin:retention_legalhold_changelist')}",
    ]
    send_mail(
        subject=f"[ropa] {run.flagged} record(s) flagged for erasure",
        message="\n".join(lines),
        from_email=None,
        recipient_list=recipients,
        fail_silently=False,
    )
