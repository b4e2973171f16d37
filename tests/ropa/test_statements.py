"""The five privacy statements the register ships with."""

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone

from processing.models import Controller, ProcessingActivity, Purpose, Source
from retention.engine import TRIGGER_DATE_FIELDS, RuleTerms, applicable_rules, expires_at
from retention.models import RetentionRule
from ropa.api.services import api_token_issue
from ropa.register.importer import SOURCE_TEXTS_DIR, STATEMENTS_DIR, statement_files
from subjects.models import ConsentRecord, PersonalDataRecord
from tests.support.api import Api

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
    # controller, trigger, value, unit, statutory, maximum
    ("voiceking", "inactivity", 3, "years", False, True),  # "na maximaal 3 jaar van inactieve periode"
    ("voiceking", "consent_withdrawn", None, "", False, True),
    ("codabox", "contract_end", 10, "years", True, False),
    ("codabox", "contract_end", 10, "years", False, True),  # "maximale bewaringstermijnen"
    ("codabox", "last_contact", 10, "years", False, False),  # "of na het einde van het contract": the later
    ("codabox", "event_end", 1, "months", False, True),
    ("codabox", "collection", 6, "months", False, True),  # "Technische logs worden maximaal 6 maanden bewaard."
    ("codabox", "consent_withdrawn", None, "", False, True),  # "zolang we uw toestemming hebben"
    ("conitro", "competition_end", 1, "months", False, True),  # "tot maximum 1 maand"
    ("conitro", "contract_end", 1, "months", False, True),  # "maximum één maand na de overeenkomst"
    ("conitro", "collection", 7, "days", False, True),  # "maximum 7 dagen"
    ("conitro", "collection", 5, "years", False, False),
    ("conitro", "inactivity", 7, "years", False, False),
    ("c-dot", "financial_year_end_of_last_invoice", 7, "years", True, False),
    ("c-dot", "financial_year_end_of_last_invoice", 7, "years", False, True),  # "tot 7 jaar": also the end
    ("c-dot", "contract_end", None, "", False, True),  # "verwijderd ... bij beëindiging van het contract"
    ("c-dot", "first_contact", 1, "years", False, False),
    ("c-dot", "collection", 14, "days", False, False),
    ("codex-connectors", "subscription_end", 7, "years", True, False),
    ("codex-connectors", "account_closed", 3, "months", False, False),
]


def test_every_activity_is_complete_and_known_periods_are_encoded():
    call_command("load_statements")
    for activity in ProcessingActivity.objects.all():
        assert activity.purposes.exists(), activity
        assert activity.retention_rules.exists(), activity
        assert activity.sources.exists(), activity
    assert Source.objects.exclude(statement__in=[f"{n}.txt" for n in STATEMENTS]).count() == 0
    for controller, trigger, value, unit, statutory, maximum in KNOWN_PERIODS:
        rules = RetentionRule.objects.filter(activity__controller__key=controller, trigger=trigger)
        assert rules.filter(duration_value=value, duration_unit=unit, statutory=statutory, maximum=maximum).exists(), (
            controller,
            trigger,
            list(rules.values("duration_value", "duration_unit", "statutory", "maximum")),
        )


# --- maxima: what the statements promise to erase is erased ------------------------------------------

MAXIMUM_WORDS = re.compile(r"\b(maximaal|maximum|uiterlijk|niet langer (bewaren|dan \d))\b", re.IGNORECASE)


def _rules(name):
    data = yaml.safe_load((STATEMENTS_DIR / f"{name}.yaml").read_text())
    for controller in data.get("controllers") or []:
        for activity in controller.get("activities") or []:
            for rule in activity.get("retention") or []:
                yield activity["reference"], rule


@pytest.mark.parametrize("name", STATEMENTS)
def test_every_period_the_statement_caps_is_a_maximum(name):
    for reference, rule in _rules(name):
        quotes = " ".join(rule["sources"])
        if rule["trigger"] == "consent_withdrawn":
            # Withdrawing consent ends the purpose: the next sweep takes the data, whatever else applies.
            assert rule.get("maximum") is True, (reference, rule["sources"])
        elif MAXIMUM_WORDS.search(quotes) and rule.get("duration") and not rule.get("statutory"):
            assert rule.get("maximum") is True, (reference, rule["sources"])
        assert not (rule.get("statutory") and rule.get("maximum")), reference


def test_no_shipped_activity_has_a_dated_rule_that_can_never_fire():
    """With every date a system registers known (only "no longer relevant", a person's call, left blank),
    each data category of each activity that has a rule with such a date gets an expiry."""
    call_command("load_statements")
    dates = {
        field: (None if trigger == "relevance_end" else dt.date(2020, 1, 1))
        for trigger, field in TRIGGER_DATE_FIELDS.items()
    }
    never = []
    for activity in ProcessingActivity.objects.prefetch_related("data_categories", "retention_rules"):
        terms = [RuleTerms.of(rule) for rule in activity.retention_rules.all()]
        for category in activity.data_categories.all():
            rules = applicable_rules(terms, data_category_id=category.pk)
            dated = [r for r in rules if r.trigger != "relevance_end"]
            if dated and expires_at(rules=rules, dates=dates, tz="Europe/Brussels") is None:
                never.append((activity.reference, category.code))
    assert never == []


@pytest.fixture
def voiceking(db):
    call_command("load_statements", "voiceking")
    controller = Controller.objects.get(key="voiceking")
    token = api_token_issue(role="system", name="voiceking crm", controllers=[controller], source_system="crm")[1]
    return Api(token)


BRUSSELS = ZoneInfo("Europe/Brussels")


def _record(reference, **fields):
    return {
        "external_id": f"{reference}-1",
        "subject": "s-1",
        "activity": reference,
        "data_category": "contact",
        **fields,
    }


def test_a_vk02_record_is_erased_after_at_most_3_years_of_inactivity(voiceking):
    # "niet langer dan noodzakelijk" has no date, yet "verwijderd ... na maximaal 3 jaar van inactieve periode".
    response = voiceking.post("records/", _record("VK-02", last_activity_on="2021-05-10"))
    assert response.status_code == 201, response.json()
    stored = voiceking.get(f"records/{response.json()['id']}/").json()
    expires = dt.datetime.fromisoformat(stored["expires_at"])
    assert expires == dt.datetime(2024, 5, 11, 0, 0, tzinfo=BRUSSELS)
    record = PersonalDataRecord.objects.get(pk=response.json()["id"])
    assert record.expiry_rule.maximum and record.expiry_rule.trigger == "inactivity"
    assert record.expiry_rule.action == "delete"


def test_withdrawing_consent_in_vk07_gives_an_expiry(voiceking):
    # Newsletter: no activity date known, so only the withdrawal can end it.
    response = voiceking.post("records/", _record("VK-07"))
    assert response.status_code == 201, response.json()
    assert voiceking.get(f"records/{response.json()['id']}/").json()["expires_at"] is None
    purpose = Purpose.objects.filter(activity__reference="VK-07", legal_basis="consent").first()
    consent = voiceking.post("consents/", {"subject": "s-1", "purpose": purpose.pk, "source": "web form"})
    assert consent.status_code == 201, consent.json()
    withdrawn = voiceking.post(f"consents/{consent.json()['id']}/withdraw/", {})
    assert withdrawn.status_code == 200, withdrawn.json()
    (line,) = withdrawn.json()["records"]
    assert line["expires_at"] is not None
    record = PersonalDataRecord.objects.get(pk=line["record"])
    today = timezone.localtime(ConsentRecord.objects.get(pk=consent.json()["id"]).withdrawn_at, BRUSSELS).date()
    assert record.expires_at == dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, BRUSSELS)
    assert (record.expiry_rule.trigger, record.expiry_rule.maximum) == ("consent_withdrawn", True)
