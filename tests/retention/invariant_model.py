"""The law of retention, re-implemented on its own for ``test_invariants``: what the register must keep and
what it must erase, computed from the rules and dates the test itself sent, never by the project's engine.

Written from docs/retention.md and DESIGN.md ("Several rules on one record"), with
``dateutil.relativedelta`` for the calendar (Jan 31 + 1 month = Feb 28/29, Feb 29 + 1 year = Feb 28):

- the rules that apply to a record: its activity's rules for all data or for the record's category; when
  the record names one of them, that one plus the statutory minima and the maxima;
- a rule keeps the data until the end of its last day (trigger date + duration) in the register's time
  zone: the record expires at 00:00 the next day;
- statutory (a minimum): nothing expires before its end; while its start is unknown the record is kept;
- maximum ("at most N"): the earliest known maximum caps the open rules; an unknown one caps nothing;
- open ("as long as needed"): the latest open end; one not yet known means still needed;
- expiry = the earlier of the open end and the cap (whichever there is), pushed later to every statutory
  end; nothing of the kind: no expiry;
- the deciding rule (action, grace period): among the rules whose last day is the record's, the least
  destructive action (flag, anonymise, delete), then the longer grace, then the lower id.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

# Trigger -> the record's date it reads (docs/retention.md, "Records and their dates").
TRIGGER_FIELD = {
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
DATE_FIELDS = tuple(TRIGGER_FIELD.values())
LEAST_DESTRUCTIVE = {"flag": 0, "anonymise": 1, "delete": 2}
ERASING = frozenset({"anonymise", "delete"})

# What a rule is, as the API, the admin and the register file all describe it.
RULE_FIELDS = (
    "data_category",
    "duration_value",
    "duration_unit",
    "trigger",
    "action",
    "grace_days",
    "statutory",
    "maximum",
    "legal_reference",
    "note",
    "source_quote",
)


@dataclasses.dataclass
class Rule:
    """A retention rule as the test believes it is stored (``data_category`` is a code or None)."""

    id: int | None
    activity_id: int
    trigger: str
    duration_value: int | None = None
    duration_unit: str = ""
    action: str = "delete"
    grace_days: int = 30
    statutory: bool = False
    maximum: bool = False
    data_category: str | None = None
    legal_reference: str = ""
    note: str = ""
    source_quote: str = ""

    @property
    def kind(self) -> str:
        if self.statutory:
            return "statutory"
        return "maximum" if self.maximum else "open"

    def problems(self) -> list[str]:
        """What makes the rule invalid (the model's own reading of the rules in docs and the admin)."""
        found = []
        if (self.duration_value is None) != (not self.duration_unit):
            found.append("duration_unit")
        if self.duration_value == 0:
            found.append("duration_value")
        if self.statutory and not self.duration_value and self.action != "flag":
            found.append("action")
        if self.statutory and self.maximum:
            found.append("maximum")
        return found

    def values(self) -> dict:
        return {name: getattr(self, name) for name in RULE_FIELDS}


def last_day(rule: Rule, dates: Mapping[str, dt.date | None]) -> dt.date | None:
    """The last day ``rule`` keeps the data, or None while its trigger date is unknown."""
    start = dates.get(TRIGGER_FIELD[rule.trigger])
    if start is None:
        return None
    if not rule.duration_value:
        return start
    return start + relativedelta(**{rule.duration_unit: rule.duration_value})


def end_moment(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """00:00 of the day after ``day``: the first moment the data is no longer kept by it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)


def applicable(rules: Iterable[Rule], *, category: str, named: int | None) -> list[Rule]:
    matching = [r for r in rules if r.data_category in (None, category)]
    if named is None:
        return matching
    return [r for r in matching if r.id == named or r.statutory or r.maximum]


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What the law says of one record: when it expires (None: it does not) and under which rule, whether
    a maximum gave the expiry, and whether a statutory minimum or an unknown end keeps it."""

    expires_at: dt.datetime | None
    rule: Rule | None
    capped_by_maximum: bool
    statutory_ends: tuple  # moments (None: not started yet)


def verdict(rules: list[Rule], dates: Mapping[str, dt.date | None], tz: ZoneInfo) -> Verdict:
    """Expiry of a record under ``rules`` (already the applicable ones)."""
    ends = [(rule, last_day(rule, dates)) for rule in rules]
    statutory = [end for rule, end in ends if rule.kind == "statutory"]
    statutory_ends = tuple(None if end is None else end_moment(end, tz) for end in statutory)
    nothing = Verdict(None, None, False, statutory_ends)
    if None in statutory:
        return nothing
    opens = [end for rule, end in ends if rule.kind == "open"]
    caps = [end for rule, end in ends if rule.kind == "maximum" and end is not None]
    still_needed = None in opens
    base = None
    if opens and not still_needed:
        base = max(opens)
    if caps:
        base = min(caps) if base is None else min(base, min(caps))
    elif still_needed:
        return nothing
    candidates = [*statutory, *([] if base is None else [base])]
    if not candidates:
        return nothing
    day = max(candidates)
    deciders = sorted(
        (rule for rule, end in ends if end == day),
        key=lambda r: (LEAST_DESTRUCTIVE[r.action], -r.grace_days, r.id or 0),
    )
    capped = bool(caps) and day == min(caps) and day not in statutory
    return Verdict(end_moment(day, tz), deciders[0], capped, statutory_ends)


def inside_statutory_minimum(v: Verdict, at: dt.datetime) -> bool:
    """A statutory minimum still runs at ``at`` (or has not started)."""
    return any(end is None or end > at for end in v.statutory_ends)


@dataclasses.dataclass
class Record:
    """A personal-data record as the test registered it. ``pk`` is the register's id for it."""

    pk: int
    source_system: str
    external_id: str
    controller: str
    subject: str
    activity_id: int
    category: str
    payload: object
    dates: dict
    named_rule: int | None = None
    restricted: bool = False
    kept_until: dt.datetime | None = None  # the DPO decided to keep it until then (a flag-only rule)

    def key(self) -> tuple[str, str]:
        return (self.source_system, self.external_id)


@dataclasses.dataclass
class Hold:
    """A legal hold the test placed. ``covers``: every record that has been in its scope while it was in
    force; a hold keeps covering a record whatever is re-registered (a move out of its scope is refused, or
    the hold goes with the record)."""

    pk: int
    scope: str
    target: object  # record pk, (controller, subject key), activity id or controller key
    in_force: bool = True
    covers: set = dataclasses.field(default_factory=set)

    def in_scope(self, record: Record, controller_of: Mapping[int, str]) -> bool:
        if self.scope == "record":
            return record.pk == self.target
        if self.scope == "subject":
            return (record.controller, record.subject) == self.target
        if self.scope == "activity":
            return record.activity_id == self.target
        return controller_of[record.activity_id] == self.target


# --- weakening a statutory minimum (docs/retention.md: a change that could end a statutory minimum sooner is
# refused while that minimum still keeps records, unless the DPO gives the reason for overriding it) -----------

_CALENDAR = {"days": ("days", 1), "weeks": ("days", 7), "months": ("months", 1), "years": ("months", 12)}


def _days_between(value: int, unit: str) -> tuple[int, int]:
    """The fewest and most days a period of ``value`` ``unit`` can last (a month: 28 to 31 days)."""
    kind, factor = _CALENDAR[unit]
    if kind == "days":
        return value * factor, value * factor
    return 28 * value * factor, 31 * value * factor


def may_end_earlier(old: Rule, new: Rule) -> bool:
    """Whether ``new``'s period (same trigger) can end before ``old``'s, for some start date."""
    if not old.duration_value:
        return False
    if not new.duration_value:
        return True
    old_kind, old_factor = _CALENDAR[old.duration_unit]
    new_kind, new_factor = _CALENDAR[new.duration_unit]
    if old_kind == new_kind:
        return new.duration_value * new_factor < old.duration_value * old_factor
    return (
        _days_between(new.duration_value, new.duration_unit)[0]
        < _days_between(old.duration_value, old.duration_unit)[1]
    )


def weakens(stored: Rule, new: Rule | None) -> bool:
    """Whether writing ``new`` over ``stored`` (None: removing it) could end a statutory minimum sooner."""
    if not stored.statutory:
        return False
    if new is None or not new.statutory or new.trigger != stored.trigger or new.activity_id != stored.activity_id:
        return True
    if new.data_category is not None and new.data_category != stored.data_category:
        return True
    return may_end_earlier(stored, new)


def still_keeps(stored: Rule, records: Iterable[Record], at: dt.datetime, tz: ZoneInfo) -> bool:
    """Whether the statutory ``stored`` rule still keeps a record at ``at``: one of its activity (and data
    category) whose end under it is later, or not known yet."""
    for record in records:
        if record.activity_id != stored.activity_id or stored.data_category not in (None, record.category):
            continue
        day = last_day(stored, record.dates)
        if day is None or end_moment(day, tz) > at:
            return True
    return False
