"""Request deadlines (Art. 12(3)): one calendar month from receipt, anchored on the day of receipt, plus at
most two months of extension, plus the days paused for an identity check."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subjects import rules
from subjects.choices import RequestStatus

D = dt.date


@pytest.mark.parametrize(
    ("received", "extension", "paused", "due"),
    [
        (D(2025, 1, 15), 0, 0, D(2025, 2, 15)),
        (D(2025, 1, 31), 0, 0, D(2025, 2, 28)),  # month end, common year
        (D(2024, 1, 31), 0, 0, D(2024, 2, 29)),  # leap year
        (D(2024, 1, 30), 0, 0, D(2024, 2, 29)),
        (D(2025, 3, 31), 0, 0, D(2025, 4, 30)),
        (D(2025, 12, 31), 0, 0, D(2026, 1, 31)),  # over the year end
        (D(2025, 1, 31), 1, 0, D(2025, 3, 31)),  # anchored on receipt, not stepped (not Mar 28)
        (D(2025, 1, 31), 2, 0, D(2025, 4, 30)),
        (D(2023, 12, 31), 2, 0, D(2024, 3, 31)),
        (D(2024, 2, 29), 0, 0, D(2024, 3, 29)),
        (D(2025, 1, 31), 0, 10, D(2025, 3, 10)),  # paused days come after the months
        (D(2025, 1, 15), 2, 5, D(2025, 4, 20)),
    ],
)
def test_due_on(received, extension, paused, due):
    assert rules.request_due_on(received_on=received, extension_months=extension, paused_days=paused) == due


def test_extension_beyond_two_months_is_refused():
    with pytest.raises(ValueError, match="0 to 2 months"):
        rules.request_due_on(received_on=D(2025, 1, 1), extension_months=3)


@given(
    received=st.dates(min_value=D(1990, 1, 1), max_value=D(2150, 12, 31)),
    extension=st.integers(0, 2),
    paused=st.integers(0, 400),
)
def test_due_on_properties(received, extension, paused):
    due = rules.request_due_on(received_on=received, extension_months=extension, paused_days=paused)
    plain = rules.request_due_on(received_on=received, extension_months=extension)
    # Never early: at least 28 days per month, at most 31; the pause adds exactly its days.
    assert due - plain == dt.timedelta(days=paused)
    months = 1 + extension
    assert 28 * months <= (plain - received).days <= 31 * months
    # Lands on the same day number, or on the last day of a shorter month.
    assert plain.day == received.day or (plain + dt.timedelta(days=1)).day == 1
    assert (plain.year * 12 + plain.month) - (received.year * 12 + received.month) == months
    # More extension never brings the deadline forward.
    if extension < 2:
        assert rules.request_due_on(received_on=received, extension_months=extension + 1) > plain


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"months": 3}, "months"),
        ({"months": 0}, "months"),
        ({"months": "2"}, "months"),
        ({"months": True}, "months"),
        ({"months": 1, "extension_months": 2}, "months"),
        ({"months": 1, "reason": " "}, "reason"),
        ({"months": 1, "status": RequestStatus.COMPLETED}, "status"),
        ({"months": 1, "due_on": D(2025, 1, 1)}, "months"),  # the deadline has passed
    ],
)
def test_extension_problems_name_the_field(kwargs, field):
    values = {
        "status": RequestStatus.IN_PROGRESS,
        "extension_months": 0,
        "reason": "Complex request",
        "due_on": D(2025, 3, 1),
        "today": D(2025, 2, 1),
        **kwargs,
    }
    assert field in rules.extension_problems(**values)


def test_extension_of_one_then_one_more_month_is_allowed_but_not_a_third():
    base = {
        "status": RequestStatus.IN_PROGRESS,
        "reason": "Many requests",
        "due_on": D(2025, 3, 1),
        "today": D(2025, 2, 1),
    }
    assert rules.extension_problems(extension_months=0, months=1, **base) == {}
    assert rules.extension_problems(extension_months=1, months=1, **base) == {}
    assert "months" in rules.extension_problems(extension_months=2, months=1, **base)


@pytest.mark.parametrize(
    ("fields", "ok"),
    [
        (["email", "address.street"], True),
        ([], False),
        (None, False),
        (["jan@example.be"], False),  # a value, not a field name
        (["email", "email"], False),
        ([12], False),
    ],
)
def test_rectified_fields_are_names_only(fields, ok):
    assert (rules.rectified_field_problems(fields) == []) is ok
