"""The Python engine and the SQL the database runs agree: on the stored expiry (bulk recompute) and on
which records the sweep selects, for random mixes of open, maximum and statutory rules, records and dates
(known and unknown)."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retention.choices import Action, DurationUnit
from retention.engine import TRIGGER_DATE_FIELDS, RecordState, sweep_steps
from retention.selectors import record_expiry
from retention.services import record_expiry_recompute, record_register
from subjects.models import PersonalDataRecord
from tests.factories import (
    DataCategoryFactory,
    DataSubjectFactory,
    ProcessingActivityFactory,
    RetentionRuleFactory,
)
from tests.support.records import TZ

pytestmark = pytest.mark.django_db

TRIGGERS = ["collection", "contract_end", "financial_year_end_of_last_invoice", "consent_withdrawn", "inactivity"]
month_ends = st.builds(
    lambda y, m: (dt.date(y, m % 12 + 1, 1) - dt.timedelta(days=1)) if m < 12 else dt.date(y, 12, 31),
    st.integers(min_value=1950, max_value=2100),
    st.integers(min_value=1, max_value=12),
)
some_date = st.one_of(month_ends, st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31)))
maybe_date = st.one_of(st.none(), some_date, some_date)

rule_strategy = st.fixed_dictionaries(
    {
        "trigger": st.sampled_from(TRIGGERS),
        "duration": st.one_of(
            st.none(), st.tuples(st.integers(min_value=1, max_value=400), st.sampled_from(DurationUnit.values))
        ),
        "action": st.sampled_from(Action.values),
        "grace_days": st.sampled_from([0, 30]),
        "kind": st.sampled_from(["open", "maximum", "statutory"]),
        "for_category": st.booleans(),
    }
)
record_strategy = st.fixed_dictionaries(
    {
        "dates": st.fixed_dictionaries({TRIGGER_DATE_FIELDS[t]: maybe_date for t in TRIGGERS}),
        "other_category": st.booleans(),
        "named_rule": st.one_of(st.none(), st.integers(min_value=0, max_value=3)),
    }
)


def build(rules, records):
    activity = ProcessingActivityFactory()
    category, other_category = DataCategoryFactory(), DataCategoryFactory()
    made_rules = []
    for spec in rules:
        value, unit = spec["duration"] or (None, "")
        made_rules.append(
            RetentionRuleFactory(
                activity=activity,
                trigger=spec["trigger"],
                duration_value=value,
                duration_unit=unit,
                action=spec["action"],
                grace_days=spec["grace_days"],
                statutory=spec["kind"] == "statutory",
                maximum=spec["kind"] == "maximum",
                data_category=category if spec["for_category"] else None,
            )
        )
    subject = DataSubjectFactory(controller=activity.controller)
    made = []
    for i, spec in enumerate(records):
        record_category = other_category if spec["other_category"] else category
        named = None
        if spec["named_rule"] is not None and spec["named_rule"] < len(made_rules):
            candidate = made_rules[spec["named_rule"]]
            if candidate.data_category_id in (None, record_category.pk):
                named = candidate
        made.append(
            record_register(
                subject=subject,
                activity=activity,
                data_category=record_category,
                source_system=f"sys-{activity.pk}",
                external_id=str(i),
                dates=spec["dates"],
                retention_rule=named,
            )
        )
    return activity, made


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rules=st.lists(rule_strategy, min_size=1, max_size=5),
    records=st.lists(record_strategy, min_size=1, max_size=6),
    now=st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(TZ)),
)
def test_python_expiry_and_sql_recompute_agree_and_select_the_same_records(db, rules, records, now):
    activity, made = build(rules, records)
    python = {r.pk: (r.expires_at, r.expiry_rule_id) for r in made}
    # The Python side is the engine itself, not only what record_register stored.
    for record in made:
        expiry = record_expiry(record)
        assert python[record.pk] == ((expiry.at, expiry.rule.id) if expiry else (None, None))

    PersonalDataRecord.objects.filter(activity=activity).update(expires_at=None, expiry_rule=None)
    record_expiry_recompute(activity_ids=[activity.pk], now=now)
    sql = {
        pk: (expires, rule)
        for pk, expires, rule in PersonalDataRecord.objects.filter(activity=activity).values_list(
            "pk", "expires_at", "expiry_rule_id"
        )
    }
    assert sql == python

    selected = set(PersonalDataRecord.objects.filter(activity=activity).due_for_flag(now).values_list("pk", flat=True))
    judged = {
        pk
        for pk, (expires, rule_id) in python.items()
        if sweep_steps(RecordState("active", expires, "delete" if rule_id else None), now=now)
    }
    assert selected == judged


@pytest.mark.parametrize(
    ("start", "value", "unit", "expected_utc"),
    [
        (dt.date(2024, 1, 31), 1, "months", dt.datetime(2024, 2, 29, 23, 0, tzinfo=dt.UTC)),  # end Feb, leap
        (dt.date(2023, 1, 31), 1, "months", dt.datetime(2023, 2, 28, 23, 0, tzinfo=dt.UTC)),
        (dt.date(2024, 2, 29), 1, "years", dt.datetime(2025, 2, 28, 23, 0, tzinfo=dt.UTC)),
        (dt.date(2024, 3, 29), 1, "days", dt.datetime(2024, 3, 30, 23, 0, tzinfo=dt.UTC)),  # DST starts 31 March
        (dt.date(2024, 10, 25), 1, "days", dt.datetime(2024, 10, 26, 22, 0, tzinfo=dt.UTC)),  # DST ends 27 Oct
        (dt.date(9999, 12, 1), 1, "months", None),  # off the calendar: kept
    ],
)
def test_sql_month_ends_leap_days_and_dst(start, value, unit, expected_utc):
    rule = RetentionRuleFactory(trigger="collection", duration_value=value, duration_unit=unit)
    category = DataCategoryFactory()
    record = record_register(
        subject=DataSubjectFactory(controller=rule.activity.controller),
        activity=rule.activity,
        data_category=category,
        source_system="sql",
        external_id="1",
        dates={"collected_on": start},
    )
    assert record.expires_at == expected_utc
    PersonalDataRecord.objects.update(expires_at=None)
    record_expiry_recompute(activity_ids=[rule.activity_id])
    record.refresh_from_db()
    assert record.expires_at == expected_utc


D = dt.date
OPEN_UNKNOWN = {"trigger": "contract_end", "duration": None, "kind": "open"}
OPEN_KNOWN = {"trigger": "collection", "duration": (1, "years"), "kind": "open"}
CAP = {"trigger": "inactivity", "duration": (3, "years"), "kind": "maximum"}
CAP_UNKNOWN = {"trigger": "consent_withdrawn", "duration": None, "kind": "maximum"}
MINIMUM = {"trigger": "financial_year_end_of_last_invoice", "duration": (7, "years"), "kind": "statutory"}
MINIMUM_UNKNOWN = {"trigger": "contract_end", "duration": (10, "years"), "kind": "statutory"}
DATES = {
    "collected_on": D(2020, 1, 10),
    "last_activity_on": D(2021, 5, 10),
    "last_invoice_financial_year_end": D(2020, 12, 31),
}


@pytest.mark.parametrize(
    ("specs", "last_day", "decides"),
    [
        ([OPEN_UNKNOWN, CAP], D(2024, 5, 10), 1),  # the cap ends what is "still needed"
        ([OPEN_KNOWN, CAP], D(2021, 1, 10), 0),  # a known open end before the cap still applies
        ([OPEN_UNKNOWN, CAP_UNKNOWN], None, None),  # an unknown maximum caps nothing
        ([CAP_UNKNOWN, CAP], D(2024, 5, 10), 1),  # the earliest KNOWN maximum
        ([CAP_UNKNOWN], None, None),
        ([CAP, MINIMUM], D(2027, 12, 31), 1),  # a statutory minimum outlasts the cap
        ([CAP, MINIMUM_UNKNOWN], None, None),  # ... and keeps while it has not started
        ([OPEN_UNKNOWN, MINIMUM], None, None),  # still needed, nothing caps it
        ([CAP_UNKNOWN, MINIMUM], D(2027, 12, 31), 1),  # no say from the maximum: the minimum alone
        ([OPEN_UNKNOWN, CAP, MINIMUM], D(2027, 12, 31), 2),
    ],
)
def test_sql_combines_open_maximum_and_statutory_rules_like_the_engine(db, specs, last_day, decides):
    rules = [dict(spec, action="delete", grace_days=30, for_category=False) for spec in specs]
    activity, (record,) = build(rules, [{"dates": DATES, "other_category": False, "named_rule": None}])
    made_rules = list(activity.retention_rules.order_by("pk"))
    expected_at = None if last_day is None else dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, TZ)
    assert (record.expires_at, record.expiry_rule_id) == (
        expected_at,
        None if decides is None else made_rules[decides].pk,
    )
    PersonalDataRecord.objects.filter(pk=record.pk).update(expires_at=None, expiry_rule=None)
    record_expiry_recompute(activity_ids=[activity.pk])
    record.refresh_from_db()
    assert (record.expires_at, record.expiry_rule_id) == (
        expected_at,
        None if decides is None else made_rules[decides].pk,
    )
