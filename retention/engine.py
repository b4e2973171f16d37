"""The retention engine: when does a record's retention run out? Pure: no ORM, no clock, no settings.

Calendar arithmetic (``add_period``) is anchored on the start date, never stepped: a period of N months
lands on the same day number N months later, or on the last day of that month when it is shorter
(Jan 31 + 1 month = Feb 28, or Feb 29 in a leap year; Feb 29 + 1 year = Feb 28; Jan 31 + 2 months =
Mar 31, not Mar 28). Years are 12 months, weeks 7 days. PostgreSQL's ``date + interval`` does the same,
which is what the bulk recompute runs (``retention/expiry.py``); a property test checks they agree.

The last day of retention is ``add_period(trigger date, duration)`` (the trigger date itself for a rule
with no duration). The data is kept for all of that day, whatever time of day the trigger happened, so
the record expires at 00:00 the following day in the register's time zone: never early.

Which rules apply to a record (``applicable_rules``): its activity's rules whose data category is blank
or the record's category; when the record names a rule, that rule plus the statutory and the maximum ones
among them (a record never escapes a minimum the law sets nor a maximum the statement promises).

A rule is one of three kinds, and each combines differently (``expiry_day``):

- **statutory** (a minimum the law imposes, "10 years, accounting law"): nothing expires before its end;
  while its trigger date is unknown (or its end off the calendar) the record does not expire at all;
- **open**, neither statutory nor maximum ("as long as needed", "N years after the contract ends"): the
  purpose keeps the record until the latest open end; an open end not yet known means "still needed";
- **maximum** ("at most N", "na maximaal 3 jaar inactiviteit", consent withdrawn): the record goes by then
  whatever the open rules say; the earliest KNOWN maximum end caps them, a maximum whose trigger date is
  unknown caps nothing (yet).

The base is the earlier of the open end and the cap (a known open end earlier than the cap still applies:
"no longer than necessary"; a cap never lengthens retention), whichever of them there is; the expiry is
the base pushed later to the end of every statutory rule. Without any base or statutory end (no rule),
or while an open end is unknown and nothing caps it, the record does not expire. The literal "expiry =
the earliest known maximum" of the design is this rule whenever no open end is known before the cap.

The rule that decides the action and the grace period is, among the applicable rules whose last day is
the record's last day, the first in preference order: the less destructive action (flag < anonymise <
delete), then the longer grace, then the lower rule id.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# Trigger code -> date field of the record it reads. Every trigger has one; ``controller_request`` and
# ``relevance_end`` read dates that a person (or the client controller, through the API) sets.
TRIGGER_DATE_FIELDS: dict[str, str] = {
    "collection": "collected_on",
    "first_contact": "first_contact_on",
    "last_contact": "last_contact_on",
    "contract_end": "contract_ended_on",
    "service_end": "service_ended_on",
    "subscription_end": "subscription_ended_on",
    "account_closed": "account_closed_on",
    "inactivity": "last_activity_on",
    "event_end": "event_ended_on",
    "competition_end": "competition_ended_on",
    "consent_withdrawn": "consent_withdrawn_on",
    "financial_year_end_of_last_invoice": "last_invoice_financial_year_end",
    "controller_request": "controller_requested_on",
    "relevance_end": "relevance_ended_on",
}

UNITS = ("days", "weeks", "months", "years")

# Least destructive first: the order that breaks ties between rules expiring at the same moment.
ACTION_ORDER = {"flag": 0, "anonymise": 1, "delete": 2}
ERASING_ACTIONS = frozenset({"anonymise", "delete"})


@dataclass(frozen=True)
class RuleTerms:
    """What the engine needs of a retention rule."""

    id: int | None
    trigger: str
    duration_value: int | None = None
    duration_unit: str = ""
    action: str = "delete"
    grace_days: int = 30
    statutory: bool = False
    data_category_id: int | None = None
    maximum: bool = False

    @classmethod
    def of(cls, rule) -> RuleTerms:
        """From a ``RetentionRule`` (or anything with its attributes)."""
        return cls(
            id=rule.id,
            trigger=rule.trigger,
            duration_value=rule.duration_value,
            duration_unit=rule.duration_unit or "",
            action=rule.action,
            grace_days=rule.grace_days,
            statutory=rule.statutory,
            data_category_id=rule.data_category_id,
            maximum=bool(getattr(rule, "maximum", False)),
        )

    @property
    def kind(self) -> str:
        """``statutory``, ``maximum`` or ``open`` (as long as needed)."""
        if self.statutory:
            return "statutory"
        return "maximum" if self.maximum else "open"

    def preference(self) -> tuple:
        """Sort key among rules that expire at the same moment: the first one wins."""
        return (ACTION_ORDER[self.action], -self.grace_days, self.id if self.id is not None else 0)


@dataclass(frozen=True)
class Expiry:
    """A record's expiry and the rule that decided it."""

    at: dt.datetime
    last_day: dt.date
    rule: RuleTerms


def add_period(start: dt.date, value: int | None, unit: str) -> dt.date:
    """``start`` plus ``value`` ``unit`` (days, weeks, months, years), anchored on ``start``; no period
    (``value`` None or 0) gives ``start``. Raises OverflowError past the year 9999."""
    if not value:
        return start
    if unit == "days":
        return start + dt.timedelta(days=value)
    if unit == "weeks":
        return start + dt.timedelta(weeks=value)
    if unit in ("months", "years"):
        months = value * 12 if unit == "years" else value
        index = start.year * 12 + (start.month - 1) + months
        year, month = divmod(index, 12)
        month += 1
        if year > dt.MAXYEAR:
            raise OverflowError("date out of range")
        return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
    raise ValueError(f"unknown duration unit {unit!r}")


def start_of_day(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """00:00 of ``day`` in ``tz``, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min).replace(tzinfo=tz)


def rule_last_day(rule: RuleTerms, dates: Mapping[str, dt.date | None]) -> dt.date | None:
    """The last day ``rule`` keeps the data, or None while its trigger date is unknown (or off the calendar)."""
    start = dates.get(TRIGGER_DATE_FIELDS[rule.trigger])
    if start is None:
        return None
    try:
        last_day = add_period(start, rule.duration_value, rule.duration_unit)
    except OverflowError:
        return None
    # The day after must exist too: past the calendar's end, the data is kept (never early).
    return None if last_day >= dt.date.max else last_day


def applicable_rules(
    rules: Iterable[RuleTerms], *, data_category_id: int | None, named_rule_id: int | None = None
) -> list[RuleTerms]:
    """The rules of the record's activity that apply to it (see the module docstring)."""
    matching = [r for r in rules if r.data_category_id is None or r.data_category_id == data_category_id]
    if named_rule_id is None:
        return matching
    return [r for r in matching if r.id == named_rule_id or r.statutory or r.maximum]


# ``expiry_day``'s verdicts besides a day: an open rule still runs and nothing caps it.
_STILL_NEEDED = object()


def expiry_day(rules: Iterable[RuleTerms], dates: Mapping[str, dt.date | None]) -> tuple[dt.date, RuleTerms] | None:
    """The record's last day of retention under ``rules`` (already narrowed by ``applicable_rules``) and the
    rule that decides, or None when it does not expire (see the module docstring)."""
    ends = [(rule, rule_last_day(rule, dates)) for rule in sorted(rules, key=RuleTerms.preference)]
    statutory = [end for rule, end in ends if rule.kind == "statutory"]
    if None in statutory:
        return None  # a minimum whose start is unknown keeps the record
    open_ends = [end for rule, end in ends if rule.kind == "open"]
    caps = [end for rule, end in ends if rule.kind == "maximum" and end is not None]
    base = None  # neither an open rule nor a known maximum: no say
    if open_ends:
        base = _STILL_NEEDED if None in open_ends else max(open_ends)
    if caps:
        base = min(caps) if base in (None, _STILL_NEEDED) else min(base, min(caps))
    if base is _STILL_NEEDED:
        return None
    candidates = [*statutory, *([base] if base is not None else [])]
    if not candidates:
        return None
    last_day = max(candidates)
    deciding = next(rule for rule, end in ends if end == last_day)
    return last_day, deciding


def expires_at(
    *, rules: Iterable[RuleTerms], dates: Mapping[str, dt.date | None], tz: dt.tzinfo | str
) -> Expiry | None:
    """When a record under ``rules`` (already narrowed by ``applicable_rules``) with trigger ``dates``
    expires, and which rule decides; None when it does not expire (``expiry_day``)."""
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    found = expiry_day(rules, dates)
    if found is None:
        return None
    last_day, rule = found
    return Expiry(at=start_of_day(last_day + dt.timedelta(days=1), tz), last_day=last_day, rule=rule)


# Triggers whose date no event brings: a person decides it (the data is no longer relevant).
PERSON_SET_TRIGGERS = frozenset({"relevance_end"})


def no_expiry_reason(rules: Iterable[RuleTerms], dates: Mapping[str, dt.date | None]) -> str | None:
    """Why a record under ``rules`` with ``dates`` has no expiry (field names and rule ids only, never
    values), or None when it has one."""
    rules = list(rules)
    if expiry_day(rules, dates) is not None:
        return None
    if not rules:
        return "no retention rule applies to it"
    for rule in sorted(rules, key=RuleTerms.preference):
        if rule.kind == "statutory" and rule_last_day(rule, dates) is None:
            return (
                f"a statutory minimum (rule {rule.id}) has not started: "
                f"{TRIGGER_DATE_FIELDS[rule.trigger]} is not known yet"
            )
    waiting = sorted(
        {TRIGGER_DATE_FIELDS[r.trigger] for r in rules if r.kind == "open" and rule_last_day(r, dates) is None}
    )
    if waiting:
        return f"kept as long as needed: {', '.join(waiting)} not known yet, and no maximum caps it"
    return "its retention runs past the end of the calendar"


def never_expires(rules: Iterable[RuleTerms]) -> str | None:
    """Whether a record under ``rules`` (already the applicable ones) can never get an expiry from the dates
    its systems register, only when a person sets the date its data stopped being relevant (or never, when
    no rule applies): the reason, or None when such dates give it one."""
    rules = list(rules)
    dates = {
        field: (None if trigger in PERSON_SET_TRIGGERS else dt.date(2000, 1, 1))
        for trigger, field in TRIGGER_DATE_FIELDS.items()
    }
    if not rules:
        return "no retention rule applies to it"
    if expiry_day(rules, dates) is not None:
        return None
    if any(r.kind == "statutory" and r.trigger in PERSON_SET_TRIGGERS for r in rules):
        return "a statutory minimum runs until someone says the data is no longer relevant"
    return "kept as long as needed, with no period and no maximum: only someone saying it is no longer needed ends it"


def erase_after(*, flagged_at: dt.datetime, grace_days: int) -> dt.datetime:
    """End of the grace period of a record flagged at ``flagged_at``."""
    return flagged_at + dt.timedelta(days=grace_days)


@dataclass(frozen=True)
class RecordState:
    """What the sweep knows of a record when it decides."""

    status: str
    expires_at: dt.datetime | None
    action: str | None
    grace_days: int = 0
    erase_after: dt.datetime | None = None
    held: bool = False


def sweep_steps(state: RecordState, *, now: dt.datetime) -> tuple[str, ...]:
    """What one sweep at ``now`` does to a record: ``()``, ``("flag",)``, ``("flag", "anonymise")``,
    ``("anonymise",)``, ... A held record is never touched; an unexpired one never erased; a flag-only
    rule never erases; a record flagged in this sweep is erased in it only with a zero grace period."""
    if state.held or state.expires_at is None or state.expires_at > now or state.action is None:
        return ()
    steps: list[str] = []
    end_of_grace = state.erase_after
    if state.status == "active":
        steps.append("flag")
        end_of_grace = erase_after(flagged_at=now, grace_days=state.grace_days)
    elif state.status != "flagged":
        return ()
    if state.action in ERASING_ACTIONS and end_of_grace is not None and end_of_grace <= now:
        steps.append(state.action)
    return tuple(steps)


# The tombstone chain. A tombstone's hash covers its non-personal fields and the hash before it, in a
# canonical form (JSON array, UTC timestamps to the microsecond), so altering, removing or reordering
# one breaks every link after it.
GENESIS_HASH = "0" * 64
TOMBSTONE_HASHED_FIELDS = (
    "sequence",
    "record_id",
    "activity_id",
    "data_category_id",
    "rule_id",
    "action",
    "source_system",
    "run_id",
    "erased_at",
)


def tombstone_hash(fields: Mapping, previous_hash: str) -> str:
    """SHA-256 (hex) of a tombstone's ``TOMBSTONE_HASHED_FIELDS`` and ``previous_hash``."""
    values = [fields[name] for name in TOMBSTONE_HASHED_FIELDS]
    values[-1] = values[-1].astimezone(dt.UTC).isoformat(timespec="microseconds")
    canonical = json.dumps([*values, previous_hash], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain_problems(rows: Iterable[Mapping]) -> Iterator[str]:
    """Walk tombstones in sequence order; say where the chain breaks (nothing when it verifies)."""
    expected_sequence, previous = 1, GENESIS_HASH
    for row in rows:
        if row["sequence"] != expected_sequence:
            yield f"tombstone #{row['sequence']}: expected #{expected_sequence} (missing tombstones)"
        if row["previous_hash"] != previous:
            yield f"tombstone #{row['sequence']}: previous hash does not match tombstone #{row['sequence'] - 1}"
        if tombstone_hash(row, row["previous_hash"]) != row["hash"]:
            yield f"tombstone #{row['sequence']}: its fields do not match its hash (altered)"
        expected_sequence, previous = row["sequence"] + 1, row["hash"]
