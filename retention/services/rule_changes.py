"""Retention rules changed: what the change does to the records they keep.

A rule changed in the admin, over the API or by a register import can shorten its records' retention.
Two guarantees hold on every path, whoever saves the rule (``apps.py`` calls ``rule_write_guard``
before any rule is saved or deleted):
- A statutory rule that still keeps records (not erased, its end for them in the future or not known
  yet) is never weakened: deleted, made non-statutory, its period possibly shortened, its trigger, data
  category or activity changed. ``StatutoryRuleWeakened`` (a ``Conflict``: a 409 in the API, a form
  error in the admin, a refused import) says which rule and how many records it keeps, unless the write
  runs inside ``rule_changes(override_reason=...)``: then the reason is audited with the rule.
- ``rule_changed`` recomputes the expiry of the activity's records and says whose expiry moved earlier
  (``RetentionChange``: ids and counts only), in the transaction of the change, so the surface that made
  it lists them before any sweep can act. Legal holds need no check here: the sweep leaves every held
  record alone, whatever its expiry."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from ropa.audit.models import AuditAction
from ropa.audit.services import audit_log
from ropa.kernel.problems import Conflict
from subjects.choices import RecordStatus
from subjects.models import (
    PersonalDataRecord,
)

from .. import engine
from ..expiry import PeriodEnd
from ..models import RetentionRule
from .records import expiry_groups, field_list, record_expiry_recompute

logger = logging.getLogger(__name__)


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
        what = "deleting it" if self.changes == ("deleted",) else f"changing its {field_list(list(self.changes))}"
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
    for group, expires, _deciding in expiry_groups(activity_id):
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
