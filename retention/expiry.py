"""The engine's arithmetic as SQL, so that ``expires_at`` is recomputed set-based, in the database.

PostgreSQL computes a rule's end with ``date + make_interval(...)``, which clamps month ends exactly as
``engine.add_period`` does, then takes 00:00 of the next day in the register's time zone. SQLite has no
such arithmetic, so it gets a SQL function that calls the engine itself (registered on every new
connection, see ``apps.py``). Either way a property test checks the SQL against the engine.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Case, DateTimeField, F, Func, IntegerField, Q, Value, When
from django.db.models.functions import Greatest
from django.db.models.lookups import Exact, IsNull

from .engine import TRIGGER_DATE_FIELDS, RuleTerms, add_period

# Past these the period runs off any calendar (engine: no expiry); the SQL must not even try.
_MAX_MONTHS = 12 * 9999
_MAX_DAYS = 366 * 9999


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


def expiry_expressions(rules: list[RuleTerms], *, tz_name: str) -> tuple:
    """SQL expressions for ``expires_at`` and ``expiry_rule_id`` of records under ``rules`` (already the
    applicable ones), equal to ``engine.expires_at``: NULL if a trigger date is unknown, else the latest
    end, decided by the first rule in preference order that reaches it."""
    if not rules:
        return Value(None, output_field=DateTimeField()), Value(None, output_field=IntegerField())
    ordered = sorted(rules, key=RuleTerms.preference)
    ends = [PeriodEnd(F(TRIGGER_DATE_FIELDS[r.trigger]), rule=r, tz_name=tz_name) for r in ordered]
    unknown = Q()
    for end in ends:
        unknown |= Q(IsNull(end, True))
    latest = ends[0] if len(ends) == 1 else Greatest(*ends)
    expires = Case(When(unknown, then=Value(None)), default=latest, output_field=DateTimeField())
    deciding = Case(
        When(unknown, then=Value(None)),
        *(When(Exact(end, latest), then=Value(rule.id)) for end, rule in zip(ends, ordered, strict=True)),
        default=Value(None),
        output_field=IntegerField(),
    )
    return expires, deciding
