"""The pure engine: calendar arithmetic, every trigger and unit, several rules, the sweep's decision."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retention.choices import Action, DurationUnit, Trigger
from retention.engine import (
    TRIGGER_DATE_FIELDS,
    RecordState,
    RuleTerms,
    add_period,
    applicable_rules,
    chain_problems,
    expires_at,
    never_expires,
    no_expiry_reason,
    rule_last_day,
    sweep_steps,
    tombstone_hash,
)
from subjects.models import PersonalDataRecord

TZ = ZoneInfo("Europe/Brussels")
D = dt.date


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=TZ)


@pytest.mark.parametrize(
    ("start", "value", "unit", "expected"),
    [
        (D(2024, 1, 31), 1, "months", D(2024, 2, 29)),  # leap year: end of February
        (D(2023, 1, 31), 1, "months", D(2023, 2, 28)),
        (D(2024, 1, 31), 2, "months", D(2024, 3, 31)),  # anchored on the start, not stepped
        (D(2024, 3, 31), 1, "months", D(2024, 4, 30)),
        (D(2024, 2, 29), 1, "years", D(2025, 2, 28)),
        (D(2024, 2, 29), 4, "years", D(2028, 2, 29)),
        (D(2024, 2, 29), 12, "months", D(2025, 2, 28)),
        (D(2023, 12, 15), 1, "months", D(2024, 1, 15)),
        (D(2024, 1, 31), 13, "months", D(2025, 2, 28)),
        (D(2024, 2, 28), 1, "days", D(2024, 2, 29)),
        (D(2023, 2, 28), 1, "days", D(2023, 3, 1)),
        (D(2024, 12, 31), 1, "days", D(2025, 1, 1)),
        (D(2024, 1, 1), 2, "weeks", D(2024, 1, 15)),
        (D(2024, 1, 1), 10, "years", D(2034, 1, 1)),
        (D(2024, 5, 17), None, "", D(2024, 5, 17)),  # no period: the trigger date itself
    ],
)
def test_add_period_is_anchored_on_the_start_date(start, value, unit, expected):
    assert add_period(start, value, unit) == expected


def test_add_period_refuses_an_unknown_unit():
    with pytest.raises(ValueError, match="unit"):
        add_period(D(2024, 1, 1), 1, "fortnights")


def test_every_trigger_reads_a_date_field_of_the_record():
    assert set(TRIGGER_DATE_FIELDS) == set(Trigger.values)
    fields = {f.name for f in PersonalDataRecord._meta.get_fields()}
    assert set(TRIGGER_DATE_FIELDS.values()) <= fields


UNIT_CASES = [
    (D(2024, 3, 1), 3, DurationUnit.DAYS, D(2024, 3, 4)),
    (D(2024, 3, 1), 2, DurationUnit.WEEKS, D(2024, 3, 15)),
    (D(2024, 1, 31), 1, DurationUnit.MONTHS, D(2024, 2, 29)),
    (D(2024, 2, 29), 1, DurationUnit.YEARS, D(2025, 2, 28)),
    (D(2024, 3, 1), None, "", D(2024, 3, 1)),
]


@pytest.mark.parametrize("trigger", Trigger.values)
@pytest.mark.parametrize(("start", "value", "unit", "last_day"), UNIT_CASES)
def test_each_trigger_and_unit_expires_the_day_after_the_last_day(trigger, start, value, unit, last_day):
    rule = RuleTerms(id=1, trigger=trigger, duration_value=value, duration_unit=unit)
    dates = dict.fromkeys(TRIGGER_DATE_FIELDS.values(), D(1990, 1, 1))  # other dates must not matter
    dates[TRIGGER_DATE_FIELDS[trigger]] = start
    expiry = expires_at(rules=[rule], dates=dates, tz=TZ)
    assert expiry.last_day == last_day
    assert expiry.at == midnight(last_day + dt.timedelta(days=1))
    assert expiry.rule == rule


@pytest.mark.parametrize("trigger", Trigger.values)
def test_a_record_whose_trigger_date_is_unknown_does_not_expire(trigger):
    rule = RuleTerms(id=1, trigger=trigger, duration_value=1, duration_unit="years")
    other = {name: D(2000, 1, 1) for name in TRIGGER_DATE_FIELDS.values() if name != TRIGGER_DATE_FIELDS[trigger]}
    assert expires_at(rules=[rule], dates=other, tz=TZ) is None


def test_no_rule_means_no_expiry():
    assert expires_at(rules=[], dates={"collected_on": D(2000, 1, 1)}, tz=TZ) is None


def test_the_latest_rule_wins_so_a_statutory_minimum_beats_a_shorter_rule():
    short = RuleTerms(id=1, trigger="contract_end", duration_value=1, duration_unit="years", action="delete")
    statutory = RuleTerms(
        id=2, trigger="financial_year_end_of_last_invoice", duration_value=7, duration_unit="years", statutory=True
    )
    dates = {"contract_ended_on": D(2020, 6, 30), "last_invoice_financial_year_end": D(2020, 12, 31)}
    expiry = expires_at(rules=[short, statutory], dates=dates, tz=TZ)
    assert expiry.rule.id == 2
    assert expiry.last_day == D(2027, 12, 31)


def test_one_unknown_trigger_date_among_several_rules_blocks_expiry():
    rules = [
        RuleTerms(id=1, trigger="collection", duration_value=1, duration_unit="years"),
        RuleTerms(id=2, trigger="contract_end", duration_value=1, duration_unit="years"),
    ]
    assert expires_at(rules=rules, dates={"collected_on": D(2000, 1, 1)}, tz=TZ) is None


@pytest.mark.parametrize(
    ("actions_graces", "winner"),
    [
        ([("delete", 30), ("anonymise", 30)], 2),  # less destructive wins a tie
        ([("delete", 30), ("flag", 30), ("anonymise", 30)], 2),
        ([("delete", 10), ("delete", 40)], 2),  # then the longer grace
        ([("delete", 30), ("delete", 30)], 1),  # then the lower id
    ],
)
def test_ties_prefer_the_less_destructive_action_then_the_longer_grace(actions_graces, winner):
    rules = [
        RuleTerms(id=i, trigger="collection", duration_value=1, duration_unit="years", action=a, grace_days=g)
        for i, (a, g) in enumerate(actions_graces, start=1)
    ]
    rules.reverse()  # the input order must not matter
    expiry = expires_at(rules=rules, dates={"collected_on": D(2020, 1, 1)}, tz=TZ)
    assert expiry.rule.id == winner


def test_applicable_rules_narrow_by_category_and_named_rule():
    general = RuleTerms(id=1, trigger="collection")
    for_cat = RuleTerms(id=2, trigger="collection", data_category_id=7)
    other_cat = RuleTerms(id=3, trigger="collection", data_category_id=8)
    statutory = RuleTerms(id=4, trigger="collection", statutory=True, action="flag")
    rules = [general, for_cat, other_cat, statutory]
    assert applicable_rules(rules, data_category_id=7) == [general, for_cat, statutory]
    assert applicable_rules(rules, data_category_id=7, named_rule_id=1) == [general, statutory]


# --- open, maximum and statutory rules ---

AS_LONG_AS_NEEDED = RuleTerms(id=1, trigger="relevance_end", action="flag")
AT_MOST_3_YEARS = RuleTerms(
    id=2, trigger="inactivity", duration_value=3, duration_unit="years", grace_days=0, maximum=True
)
CONSENT_WITHDRAWN = RuleTerms(id=3, trigger="consent_withdrawn", action="flag", maximum=True)


def test_a_maximum_ends_what_is_still_needed():
    # VK-02: "niet langer dan noodzakelijk" and "verwijderd na maximaal 3 jaar van inactieve periode".
    expiry = expires_at(rules=[AS_LONG_AS_NEEDED, AT_MOST_3_YEARS], dates={"last_activity_on": D(2021, 5, 10)}, tz=TZ)
    assert expiry.last_day == D(2024, 5, 10)
    assert expiry.at == midnight(D(2024, 5, 11))
    assert expiry.rule == AT_MOST_3_YEARS


def test_a_maximum_whose_date_is_unknown_caps_nothing_yet():
    assert expires_at(rules=[AS_LONG_AS_NEEDED, AT_MOST_3_YEARS], dates={}, tz=TZ) is None
    assert expires_at(rules=[AT_MOST_3_YEARS], dates={}, tz=TZ) is None


def test_withdrawing_consent_ends_retention_at_once_under_a_maximum_with_no_period():
    rules = [CONSENT_WITHDRAWN, AS_LONG_AS_NEEDED, AT_MOST_3_YEARS]  # VK-07
    dates = {"last_activity_on": D(2025, 3, 1), "consent_withdrawn_on": D(2025, 6, 2)}
    expiry = expires_at(rules=rules, dates=dates, tz=TZ)
    assert (expiry.last_day, expiry.rule) == (D(2025, 6, 2), CONSENT_WITHDRAWN)
    # Without the withdrawal, the inactivity maximum still runs.
    assert expires_at(rules=rules, dates={"last_activity_on": D(2025, 3, 1)}, tz=TZ).rule == AT_MOST_3_YEARS


def test_the_earliest_known_maximum_caps_and_a_known_open_end_before_it_still_applies():
    open_one_year = RuleTerms(id=4, trigger="collection", duration_value=1, duration_unit="years")
    later_cap = RuleTerms(id=5, trigger="collection", duration_value=5, duration_unit="years", maximum=True)
    dates = {"collected_on": D(2020, 1, 10), "last_activity_on": D(2020, 6, 1)}
    assert expires_at(rules=[later_cap, AT_MOST_3_YEARS], dates=dates, tz=TZ).last_day == D(2023, 6, 1)
    expiry = expires_at(rules=[open_one_year, later_cap, AT_MOST_3_YEARS], dates=dates, tz=TZ)
    assert (expiry.last_day, expiry.rule) == (D(2021, 1, 10), open_one_year)  # a cap never lengthens


def test_a_statutory_minimum_outlasts_a_maximum_and_keeps_while_it_has_not_started():
    minimum = RuleTerms(id=6, trigger="contract_end", duration_value=10, duration_unit="years", statutory=True)
    dates = {"last_activity_on": D(2021, 5, 10), "contract_ended_on": D(2022, 1, 31)}
    expiry = expires_at(rules=[AS_LONG_AS_NEEDED, AT_MOST_3_YEARS, minimum], dates=dates, tz=TZ)
    assert (expiry.last_day, expiry.rule) == (D(2032, 1, 31), minimum)
    assert expires_at(rules=[AT_MOST_3_YEARS, minimum], dates={"last_activity_on": D(2021, 5, 10)}, tz=TZ) is None
    # A maximum that has no say yet leaves the minimum alone to decide.
    assert expires_at(rules=[CONSENT_WITHDRAWN, minimum], dates=dates, tz=TZ).rule == minimum


def test_without_an_open_rule_a_maximum_later_than_the_minimum_is_the_expiry():
    # DESIGN.md: expiry = the earliest known maximum, pushed later to every statutory minimum. The statement's
    # "at most" is when the record goes; the minimum only forbids going sooner.
    minimum = RuleTerms(id=6, trigger="contract_end", statutory=True)
    cap = RuleTerms(id=7, trigger="collection", duration_value=1, duration_unit="years", maximum=True)
    dates = {"contract_ended_on": D(2021, 1, 1), "collected_on": D(2021, 6, 1)}
    expiry = expires_at(rules=[minimum, cap], dates=dates, tz=TZ)
    assert (expiry.last_day, expiry.rule) == (D(2022, 6, 1), cap)
    assert expires_at(rules=[minimum], dates=dates, tz=TZ).last_day == D(2021, 1, 1)


def test_a_named_rule_keeps_the_activitys_maxima_and_minima():
    statutory = RuleTerms(id=4, trigger="collection", statutory=True, action="flag")
    rules = [AS_LONG_AS_NEEDED, AT_MOST_3_YEARS, statutory, RuleTerms(id=5, trigger="collection")]
    assert applicable_rules(rules, data_category_id=7, named_rule_id=1) == [
        AS_LONG_AS_NEEDED,
        AT_MOST_3_YEARS,
        statutory,
    ]


def test_why_a_record_has_no_expiry():
    minimum = RuleTerms(id=6, trigger="contract_end", duration_value=10, duration_unit="years", statutory=True)
    assert no_expiry_reason([], {}) == "no retention rule applies to it"
    assert "contract_ended_on" in no_expiry_reason([AT_MOST_3_YEARS, minimum], {"last_activity_on": D(2021, 5, 10)})
    assert "relevance_ended_on" in no_expiry_reason([AS_LONG_AS_NEEDED, AT_MOST_3_YEARS], {})
    assert no_expiry_reason([AS_LONG_AS_NEEDED, AT_MOST_3_YEARS], {"last_activity_on": D(2021, 5, 10)}) is None


def test_never_expires_tells_rule_sets_only_a_person_can_end():
    assert never_expires([]) == "no retention rule applies to it"
    assert never_expires([AS_LONG_AS_NEEDED])
    assert never_expires([AS_LONG_AS_NEEDED, CONSENT_WITHDRAWN]) is None  # withdrawal ends it
    assert never_expires([AS_LONG_AS_NEEDED, AT_MOST_3_YEARS]) is None
    assert never_expires([RuleTerms(id=1, trigger="contract_end", statutory=True, action="flag")]) is None


def test_the_expiry_instant_is_midnight_in_the_register_time_zone_across_dst():
    rule = RuleTerms(id=1, trigger="collection", duration_value=1, duration_unit="days")
    summer = expires_at(rules=[rule], dates={"collected_on": D(2024, 7, 1)}, tz=TZ)
    winter = expires_at(rules=[rule], dates={"collected_on": D(2024, 1, 1)}, tz=TZ)
    assert summer.at.astimezone(dt.UTC) == dt.datetime(2024, 7, 2, 22, 0, tzinfo=dt.UTC)
    assert winter.at.astimezone(dt.UTC) == dt.datetime(2024, 1, 2, 23, 0, tzinfo=dt.UTC)


# --- properties ---

dates = st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31))
values = st.integers(min_value=1, max_value=1200)
units = st.sampled_from(DurationUnit.values)


@given(start=dates, value=values, unit=units)
def test_never_early_the_period_is_at_least_its_length(start, value, unit):
    end = add_period(start, value, unit)
    if unit == "days":
        assert (end - start).days == value
    elif unit == "weeks":
        assert (end - start).days == 7 * value
    else:
        months = value * (12 if unit == "years" else 1)
        # The same day number months later, or the last day of a shorter month: never before.
        assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == months
        assert end.day == start.day or (end.day < start.day and (end + dt.timedelta(days=1)).day == 1)
        # At least months x 28 days, at most months x 31.
        assert 28 * months <= (end - start).days <= 31 * months


@given(start=dates, months=st.integers(min_value=1, max_value=600))
def test_month_ends_clamp_and_never_step(start, months):
    # Adding n months at once equals the anchored result, whatever the month lengths in between.
    end = add_period(start, months, "months")
    stepped_bound = start
    for _ in range(months):
        stepped_bound = add_period(stepped_bound, 1, "months")
    assert end >= stepped_bound  # stepping can only lose days (Jan 31 -> Feb 28 -> Mar 28)


@given(year=st.integers(min_value=1904, max_value=2196).filter(lambda y: y % 4 == 0 and (y % 100 or y % 400 == 0)))
def test_leap_days_land_on_feb_28_or_29(year):
    for years in range(1, 9):
        end = add_period(D(year, 2, 29), years, "years")
        leap = end.year % 4 == 0 and (end.year % 100 != 0 or end.year % 400 == 0)
        assert (end.month, end.day) == ((2, 29) if leap else (2, 28))


@given(
    start=dates,
    rules=st.lists(st.tuples(values, units, st.sampled_from(Action.values)), min_size=1, max_size=4),
)
def test_never_early_with_several_rules(start, rules):
    terms = [
        RuleTerms(id=i, trigger="collection", duration_value=v, duration_unit=u, action=a)
        for i, (v, u, a) in enumerate(rules, start=1)
    ]
    expiry = expires_at(rules=terms, dates={"collected_on": start}, tz=TZ)
    for rule in terms:
        assert expiry.last_day >= add_period(start, rule.duration_value, rule.duration_unit)
        assert expiry.at > midnight(add_period(start, rule.duration_value, rule.duration_unit))


kinds = st.sampled_from(["open", "maximum", "statutory"])
any_rule = st.builds(
    lambda trigger, value, unit, kind: RuleTerms(
        id=None,
        trigger=trigger,
        duration_value=value,
        duration_unit=unit if value else "",
        statutory=kind == "statutory",
        maximum=kind == "maximum",
    ),
    st.sampled_from(["collection", "contract_end", "inactivity", "consent_withdrawn"]),
    st.one_of(st.none(), values),
    units,
    kinds,
)
some_dates = st.fixed_dictionaries(
    {
        f: st.one_of(st.none(), dates)
        for f in ("collected_on", "contract_ended_on", "last_activity_on", "consent_withdrawn_on")
    }
)


def _numbered(rules):
    return [RuleTerms(**{**r.__dict__, "id": i}) for i, r in enumerate(rules, start=1)]


def _day(expiry):
    return dt.date.max if expiry is None else expiry.last_day


@given(rules=st.lists(any_rule, max_size=4), cap=any_rule, record_dates=some_dates)
def test_a_maximum_never_lengthens_what_open_rules_keep_and_never_shortens_a_minimum(rules, cap, record_dates):
    rules = _numbered(rules)
    with_cap = _numbered([*rules, RuleTerms(**{**cap.__dict__, "statutory": False, "maximum": True})])
    before = expires_at(rules=rules, dates=record_dates, tz=TZ)
    after = expires_at(rules=with_cap, dates=record_dates, tz=TZ)
    if any(rule.kind == "open" for rule in rules):
        # A cap never lengthens what open rules keep; without one, the cap is the expiry (DESIGN.md), which
        # may come after a minimum that alone would have ended sooner.
        assert _day(after) <= _day(before)
    if after is not None:
        for rule in with_cap:
            end = rule_last_day(rule, record_dates)
            if rule.statutory:
                assert end is not None and after.last_day >= end
        assert rule_last_day(after.rule, record_dates) == after.last_day


NOW = dt.datetime(2030, 6, 1, 12, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("state", "steps"),
    [
        (RecordState("active", NOW, "delete", grace_days=30), ("flag",)),
        (RecordState("active", NOW, "delete", grace_days=0), ("flag", "delete")),
        (RecordState("active", NOW, "flag", grace_days=0), ("flag",)),
        (RecordState("active", NOW + dt.timedelta(seconds=1), "delete"), ()),
        (RecordState("active", None, "delete"), ()),
        (RecordState("active", NOW, "delete", held=True), ()),
        (RecordState("flagged", NOW, "anonymise", erase_after=NOW), ("anonymise",)),
        (RecordState("flagged", NOW, "anonymise", erase_after=NOW + dt.timedelta(days=1)), ()),
        (RecordState("flagged", NOW, "anonymise", erase_after=NOW, held=True), ()),
        (RecordState("flagged", NOW, "flag", erase_after=NOW), ()),
        (RecordState("erased", NOW, "anonymise", erase_after=NOW), ()),
    ],
)
def test_sweep_steps(state, steps):
    assert sweep_steps(state, now=NOW) == steps


def _chain(n):
    rows, previous = [], "0" * 64
    for i in range(1, n + 1):
        row = {
            "sequence": i,
            "record_id": 100 + i,
            "activity_id": 1,
            "data_category_id": 2,
            "rule_id": 3,
            "action": "delete",
            "source_system": "crm",
            "run_id": 1,
            "erased_at": NOW,
        }
        row["previous_hash"], row["hash"] = previous, tombstone_hash(row, previous)
        previous = row["hash"]
        rows.append(row)
    return rows


def test_chain_verifies_and_shows_alteration_removal_and_reordering():
    rows = _chain(5)
    assert list(chain_problems(rows)) == []
    altered = [dict(r) for r in rows]
    altered[2]["record_id"] = 999
    assert any("altered" in p for p in chain_problems(altered))
    assert any("missing" in p for p in chain_problems(rows[:2] + rows[3:]))
    assert list(chain_problems([rows[1], rows[0], *rows[2:]]))


@settings(max_examples=25)
@given(st.datetimes(timezones=st.just(TZ)))
def test_hash_is_independent_of_the_time_zone_a_timestamp_is_read_in(moment):
    row = _chain(1)[0] | {"erased_at": moment}
    assert tombstone_hash(row, "0" * 64) == tombstone_hash(row | {"erased_at": moment.astimezone(dt.UTC)}, "0" * 64)
