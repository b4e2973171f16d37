"""The five privacy statements the register ships with."""

import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from processing.models import Controller, ProcessingActivity, Source
from retention.models import RetentionRule
from ropa.register_file import SOURCE_TEXTS_DIR, STATEMENTS_DIR, statement_files

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
STATEMENTS = ["c-dot", "codabox-isabel", "codex-connectors", "conitro", "voiceking"]


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _quotes(node):
    """Every quote anywhere in a register file: ``sources`` lists at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "sources":
                yield from value
            else:
                yield from _quotes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _quotes(item)


def test_all_five_statements_are_shipped_with_their_source_text():
    assert [p.stem for p in statement_files()[1:]] == STATEMENTS
    for name in STATEMENTS:
        assert (SOURCE_TEXTS_DIR / f"{name}.txt").is_file()


@pytest.mark.parametrize("name", STATEMENTS)
def test_every_quote_is_verbatim(name):
    data = yaml.safe_load((STATEMENTS_DIR / f"{name}.yaml").read_text())
    texts = [SOURCE_TEXTS_DIR / data["statement"]["file"]]
    if SEEDS.is_dir():  # the originals, where they sit beside the checkout
        texts.append(SEEDS / data["statement"]["file"])
    quotes = list(_quotes(data))
    assert len(quotes) >= 10
    for path in texts:
        text = _fold(path.read_text())
        missing = [q for q in quotes if _fold(q) not in text]
        assert not missing, f"{path.name}: {missing[:3]}"


def test_load_statements_loads_all_five_then_changes_nothing(capsys):
    call_command("load_statements")
    first = capsys.readouterr().out
    assert "new:" in first
    counts = (Controller.objects.count(), ProcessingActivity.objects.count(), RetentionRule.objects.count())
    assert counts[0] == 6  # CodaBox and Isabel share one statement
    history = ProcessingActivity.history.count()

    call_command("load_statements")
    second = capsys.readouterr().out
    assert "nothing changed" in second
    assert (Controller.objects.count(), ProcessingActivity.objects.count(), RetentionRule.objects.count()) == counts
    assert ProcessingActivity.history.count() == history


def test_load_statements_by_name(capsys):
    call_command("load_statements", "voiceking")
    assert list(Controller.objects.values_list("key", flat=True)) == ["voiceking"]


KNOWN_PERIODS = [
    # controller, trigger, value, unit, statutory
    ("voiceking", "inactivity", 3, "years", False),
    ("codabox", "contract_end", 10, "years", True),
    ("codabox", "event_end", 1, "months", False),
    ("codabox", "consent_withdrawn", None, "", False),
    ("conitro", "competition_end", 1, "months", False),
    ("conitro", "inactivity", 7, "years", False),
    ("c-dot", "financial_year_end_of_last_invoice", 7, "years", True),
    ("c-dot", "first_contact", 1, "years", False),
    ("c-dot", "collection", 14, "days", False),
    ("codex-connectors", "subscription_end", 7, "years", True),
    ("codex-connectors", "account_closed", 3, "months", False),
]


def test_every_activity_is_complete_and_known_periods_are_encoded():
    call_command("load_statements")
    for activity in ProcessingActivity.objects.all():
        assert activity.purposes.exists(), activity
        assert activity.retention_rules.exists(), activity
        assert activity.sources.exists(), activity
    assert Source.objects.exclude(statement__in=[f"{n}.txt" for n in STATEMENTS]).count() == 0
    for controller, trigger, value, unit, statutory in KNOWN_PERIODS:
        rules = RetentionRule.objects.filter(activity__controller__key=controller, trigger=trigger)
        assert rules.filter(duration_value=value, duration_unit=unit, statutory=statutory).exists(), (
            controller,
            trigger,
            list(rules.values("duration_value", "duration_unit", "statutory")),
        )
