"""The engine's arithmetic as SQL, so that ``expires_at`` is recomputed set-based, in the database.

PostgreSQL computes a rule's end with ``date + make_interval(...)``, which clamps month ends exactly as
``engine.add_period`` does, then takes 00:00 of the next day in the register's time zone. SQLite has no
such arithmetic, so it gets a SQL function that calls the engine itself (registered on every new
connection, see ``apps.py``). Either way a property test checks the SQL against the engine.

Several rules combine as ``engine.expiry_day`` says (open, maximum and statutory rules). The two databases
disagree on NULLs in their multi-argument extremes (PostgreSQL's LEAST/GREATEST skip them, SQLite's MIN/MAX
return NULL), so these are only ever given non-NULL arguments: unknown ends are tested with IS NULL first,
and a maximum whose end is unknown is COALESCEd to a sentinel later than any real end (``_FAR``).
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Case, DateTimeField, F, Func, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce, Greatest, Least
from django.db.models.lookups import Exact, GreaterThanOrEqual, IsNull

from .engine import TRIGGER_DATE_FIELDS, RuleTerms, add_period

# Past these the period runs off any calendar (engine: no expiry); the SQL must not even try.
_MAX_MONTHS = 12 * 9999
_MAX_DAYS = 366 * 9999
# Later than any end PeriodEnd gives (those stop at 00:00 local of 9999-12-31): "no cap" / "still needed".
_FAR_MOMENT = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)


def _interval(rule: RuleTerms) -> tuple[int, int] | None:
    """(months, days) of the rule's period, or None when it is off the calendar."""
    value = rule.duration_value or 0
    months, days = {
        "months": (value, 0),
        "years": (value * 12, 0),
        "weeks": (0, value * 7),
        "days": (0, value),
    }.get(rule.duration_unit, (0, 0))
    if months > _MAX_MONTHS or days > _MAX_DAYS:
        return None
    return months, days


class PeriodEnd(Func):
    """When ``rule``'s period ends for the date in ``expression``: 00:00, in ``tz_name``, of the day after
    ``add_period(date, rule)``; NULL while the date is unknown or past the calendar's end."""

    output_field = DateTimeField()

    def __init__(self, expression, *, rule: RuleTerms, tz_name: str):
        super().__init__(expression)
        self.rule = rule
        self.tz_name = tz_name

    def as_sql(self, compiler, connection, **extra):  # pragma: no cover - every backend has its own
        raise NotImplementedError(f"PeriodEnd has no SQL for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra):
        interval = _interval(self.rule)
        if interval is None:
            return "NULL::timestamptz", []
        column, params = compiler.compile(self.source_expressions[0])
        last_day = f"(({column}) + make_interval(months => {interval[0]:d}, days => {interval[1]:d}))::date"
        sql = (
            f"(CASE WHEN {last_day} >= DATE '9999-12-31' THEN NULL "
            f"ELSE (({last_day} + 1)::timestamp AT TIME ZONE %s) END)"
        )
        return sql, [*params, *params, self.tz_name]

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return (
            "ropa_period_end(%s, %%s, %%s, %%s)" % column,  # noqa: UP031 - the column is SQL, not a value
            [*params, self.rule.duration_value or 0, self.rule.duration_unit or "days", self.tz_name],
        )


def sqlite_period_end(day: str | None, value: int, unit: str, tz_name: str) -> str | None:
    """The SQLite function ``ropa_period_end``: PeriodEnd by the engine, in Django's SQLite datetime format."""
    if day is None:
        return None
    try:
        last_day = add_period(dt.date.fromisoformat(day[:10]), value, unit)
    except (OverflowError, ValueError):
        return None
    if last_day >= dt.date.max:
        return None
    local = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min).replace(tzinfo=ZoneInfo(tz_name))
    return str(local.astimezone(dt.UTC).replace(tzinfo=None))


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: teach SQLite the engine's arithmetic."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("ropa_period_end", 4, sqlite_period_end, deterministic=True)


def _far():
    return Value(_FAR_MOMENT, output_field=DateTimeField())


def _latest(expressions: list):
    return expressions[0] if len(expressions) == 1 else Greatest(*expressions, output_field=DateTimeField())


def _earliest(expressions: list):
    return expressions[0] if len(expressions) == 1 else Least(*expressions, output_field=DateTimeField())


def _any_null(expressions: list) -> Q:
    unknown = Q()
    for expression in expressions:
        unknown |= Q(IsNull(expression, True))
    return unknown


def expiry_expressions(rules: list[RuleTerms], *, tz_name: str) -> tuple:
    """SQL expressions for ``expires_at`` and ``expiry_rule_id`` of records under ``rules`` (already the
    applicable ones), equal to ``engine.expires_at``: the earlier of the latest open end and the earliest
    known maximum, pushed later to every statutory end; NULL while a statutory start is unknown, or an open
    end is unknown and no maximum caps it. The deciding rule is the first in preference order whose end is
    the expiry."""
    if not rules:
        return Value(None, output_field=DateTimeField()), Value(None, output_field=IntegerField())
    ordered = sorted(rules, key=RuleTerms.preference)
    ends = [PeriodEnd(F(TRIGGER_DATE_FIELDS[r.trigger]), rule=r, tz_name=tz_name) for r in ordered]
    by_kind: dict[str, list] = {"statutory": [], "open": [], "maximum": []}
    for end, rule in zip(ends, ordered, strict=True):
        by_kind[rule.kind].append(end)
    statutory, open_ends, maxima = by_kind["statutory"], by_kind["open"], by_kind["maximum"]

    # The base, with _FAR for "still needed" (when there are open rules) or "no say" (maxima only).
    base = None
    if open_ends:
        base = Case(When(_any_null(open_ends), then=_far()), default=_latest(open_ends), output_field=DateTimeField())
    if maxima:
        cap = _earliest([Coalesce(end, _far(), output_field=DateTimeField()) for end in maxima])
        base = cap if base is None else Least(base, cap, output_field=DateTimeField())
    no_base = Q(GreaterThanOrEqual(base, _far())) if base is not None else None

    none = Value(None, output_field=DateTimeField())
    whens = []
    if statutory:
        whens.append(When(_any_null(statutory), then=none))
        latest_statutory = _latest(statutory)
        if base is None:
            final_default = latest_statutory
        else:
            # Far base: an open rule still runs (no expiry), or only unknown maxima (no say: the minimum alone).
            whens.append(When(no_base, then=none if open_ends else latest_statutory))
            final_default = Greatest(base, latest_statutory, output_field=DateTimeField())
    else:
        whens.append(When(no_base, then=none))
        final_default = base
    expires = Case(*whens, default=final_default, output_field=DateTimeField())
    deciding = Case(
        When(IsNull(expires, True), then=Value(None)),
        *(When(Exact(end, expires), then=Value(rule.id)) for end, rule in zip(ends, ordered, strict=True)),
        default=Value(None),
        output_field=IntegerField(),
    )
    return expires, deciding
