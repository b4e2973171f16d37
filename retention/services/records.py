"""Personal-data records: registered, updated and their expiry recomputed, set-based per activity.

What a write may change on a record that exists (``record_upsert``, ``record_update_dates``); every
surface (API single and batch, admin, requests) comes through these, so the rules hold on every path:
- An upsert changes only what it is given: an argument left out (``OMITTED``; a date not in ``dates``)
  keeps what is stored, ``None`` clears it.
- A legal hold in force that covers a record freezes what decides which holds and which rules cover it
  (``HOLD_FROZEN_FIELDS``): moving it away would let the next sweep take it while the hold stands. Its
  dates and payload may still change: the hold keeps it, whatever its expiry.
- A record under an Art. 18 restriction is stored, not processed: nothing of it changes until the
  restriction is lifted, except a trigger date the person sets by their own act (a consent withdrawal,
  an objection; ``subject_act``), which only ever brings its erasure nearer.
Both refusals are ``Conflict`` (a 409 in the API) naming the hold or request by id and the fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from processing.models import Controller, DataCategory, ProcessingActivity
from ropa.kernel.problems import Conflict
from subjects.choices import RecordStatus
from subjects.models import (
    DataSubject,
    PersonalDataRecord,
)

from .. import engine, selectors
from ..expiry import expiry_expressions
from ..locks import HOLD_LOCK_KEY, advisory_xact_lock
from ..models import LegalHold, RetentionRule

DATE_FIELDS = frozenset(engine.TRIGGER_DATE_FIELDS.values())


class Omitted:
    """The type of ``OMITTED``: an argument not given, so an upsert keeps what is stored."""

    def __repr__(self) -> str:
        return "OMITTED"


OMITTED = Omitted()

# Which holds and which rules cover a record follow from these: frozen while a hold in force covers it.
HOLD_FROZEN_FIELDS = ("subject", "activity", "data_category", "retention_rule")


def validated_dates(dates: Mapping[str, dt.date | None] | None) -> dict[str, dt.date | None]:
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


def field_list(names: list[str]) -> str:
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
            f"processed, so its {field_list(changed)} cannot change until the restriction is lifted.",
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
                f"Record {record.pk} is under legal hold {named}: its {field_list(moved)} cannot change while "
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
            f"it waits for {field_list(missing)} (rule {named})"
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
    dates = validated_dates(dates)
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
    dates = validated_dates(dates)
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


def expiry_groups(activity_id: int):
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


@transaction.atomic
def records_trigger_date_set(*, records, field: str, day: dt.date, now: dt.datetime | None = None) -> list[dict]:
    """Set the trigger date ``field`` to ``day`` on every record of ``records`` not erased where it is still
    blank (the first withdrawal or objection stands), and recompute their expiry in SQL, so the next sweep
    takes what has run out. Returns, per record, its id and new ``expires_at`` (ids and dates only).

    Its callers record the person's own act (a consent withdrawal, an objection), so a restricted record
    takes the date too: restriction keeps the data stored, not the person's choice out of it, and the date
    only ever brings erasure nearer. A hold does not stop it either: a date moves no record out of a hold."""
    validated_dates({field: day})
    now = now or timezone.now()
    blank = records.exclude(status=RecordStatus.ERASED).filter(**{f"{field}__isnull": True})
    ids = list(blank.order_by("pk").select_for_update(of=("self",)).values_list("pk", flat=True))
    if not ids:
        return []
    chosen = PersonalDataRecord.objects.filter(pk__in=ids)
    chosen.update(**{field: day})
    for activity_id in chosen.order_by().values_list("activity_id", flat=True).distinct():
        for group, expires, deciding in expiry_groups(activity_id):
            group.filter(pk__in=ids).update(expires_at=expires, expiry_rule_id=deciding)
    chosen.filter(status=RecordStatus.FLAGGED).exclude(expires_at__lte=now).update(
        status=RecordStatus.ACTIVE, flagged_at=None, erase_after=None
    )
    return [
        {"record": pk, "expires_at": expires.astimezone(dt.UTC).isoformat() if expires else None}
        for pk, expires in chosen.order_by("pk").values_list("pk", "expires_at")
    ]


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
        for group, expires, deciding in expiry_groups(activity_id):
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
