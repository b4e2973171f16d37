"""The pure lawfulness rules, table-driven."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from processing import rules


@pytest.mark.parametrize(
    ("legal_basis", "interest", "fields"),
    [
        ("contract", "", []),
        ("consent", None, []),
        ("legitimate_interests", "", ["legitimate_interest"]),
        ("legitimate_interests", "   ", ["legitimate_interest"]),
        ("legitimate_interests", "Direct marketing to existing customers", []),
        ("gut_feeling", "", ["legal_basis"]),
    ],
)
def test_purpose_problems(legal_basis, interest, fields):
    problems = rules.purpose_problems(legal_basis=legal_basis, legitimate_interest=interest)
    assert [p.field for p in problems] == fields


@pytest.mark.parametrize(
    ("country", "inside_eea", "safeguard", "fields"),
    [
        ("BE", True, None, []),
        ("US", False, "scc", []),
        ("US", False, None, ["safeguard"]),
        (None, False, None, ["safeguard"]),
        (None, None, None, []),
        ("US", True, None, ["inside_eea"]),
        ("NO", True, None, []),  # Norway is in the EEA, not in the EU
        ("BE", True, "scc", ["safeguard"]),
        ("GB", False, "adequacy", []),
    ],
)
def test_recipient_problems(country, inside_eea, safeguard, fields):
    problems = rules.recipient_problems(country=country, inside_eea=inside_eea, safeguard=safeguard)
    assert [p.field for p in problems] == fields


BASE = {"status": "active", "ended_on": None, "role": "controller", "client": "", "art9_condition": ""}


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({}, []),
        ({"special_categories": ["health"]}, ["art9_condition"]),
        ({"special_categories": ["health"], "art9_condition": "explicit_consent"}, []),
        ({"status": "ended"}, ["ended_on"]),
        ({"status": "ended", "ended_on": dt.date(2024, 1, 1)}, []),
        ({"ended_on": dt.date(2024, 1, 1)}, ["ended_on"]),
        ({"replaced_by_id": 2, "activity_id": 1}, ["replaced_by"]),
        ({"status": "ended", "ended_on": dt.date(2024, 1, 1), "replaced_by_id": 1, "activity_id": 1}, ["replaced_by"]),
        ({"role": "processor"}, ["client"]),
        ({"role": "processor", "client": "Klanten van C-DOT"}, []),
    ],
)
def test_activity_problems(changes, fields):
    problems = rules.activity_problems(**{**BASE, **changes})
    assert [p.field for p in problems] == fields


def test_special_category_message_names_the_categories():
    (problem,) = rules.activity_problems(**BASE, special_categories=["health", "biometrics"])
    assert "biometrics, health" in problem.message


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("BE0653.989.638", True),
        ("BE 0653989638", True),
        ("BE0653.989.639", False),  # wrong check digits
        ("BE653.989.638", False),
        ("NL123456789B01", True),  # not Belgian: not checked here
        ("", True),
    ],
)
def test_enterprise_number_problems(number, ok):
    assert (rules.enterprise_number_problems(number) == []) is ok


def test_raise_problems_groups_messages_by_field():
    with pytest.raises(ValidationError) as excinfo:
        rules.raise_problems([rules.Problem("a", "one"), rules.Problem("a", "two"), rules.Problem("b", "three")])
    assert excinfo.value.message_dict == {"a": ["one", "two"], "b": ["three"]}
