import pytest

from retention.choices import Action, DurationUnit, Trigger
from retention.wording import retention_sentence


@pytest.mark.parametrize(
    ("rule", "language", "sentence"),
    [
        (
            {"duration_value": 10, "duration_unit": "years", "trigger": "contract_end", "action": "delete"},
            "en",
            "Deleted 10 years after the end of the contract.",
        ),
        (
            {"duration_value": 10, "duration_unit": "years", "trigger": "contract_end", "action": "delete"},
            "nl",
            "Verwijderd 10 jaar na het einde van de overeenkomst.",
        ),
        (
            {"duration_value": 1, "duration_unit": "months", "trigger": "event_end", "action": "delete"},
            "fr",
            "Supprimées 1 mois après la fin de l'événement.",
        ),
        (
            {"duration_value": None, "duration_unit": "", "trigger": "consent_withdrawn", "action": "delete"},
            "en",
            "Deleted when consent is withdrawn.",
        ),
        (
            {"duration_value": None, "duration_unit": "", "trigger": "consent_withdrawn", "action": "delete"},
            "nl",
            "Verwijderd zodra de toestemming wordt ingetrokken.",
        ),
        (
            {"duration_value": None, "duration_unit": "", "trigger": "relevance_end", "action": "flag"},
            "en",
            "Flagged for review when the data is no longer relevant (no fixed period).",
        ),
        (
            {
                "duration_value": 7,
                "duration_unit": "years",
                "trigger": "financial_year_end_of_last_invoice",
                "action": "delete",
                "statutory": True,
                "legal_reference": "art. 60 WBTW",
            },
            "en",
            "Deleted 7 years after the end of the financial year of the last invoice"
            " (statutory minimum: art. 60 WBTW).",
        ),
        (
            {"duration_value": 14, "duration_unit": "days", "trigger": "collection", "action": "delete"},
            "de",
            "Deleted 14 days after collection.",
        ),
    ],
)
def test_retention_sentence(rule, language, sentence):
    assert retention_sentence(**rule, language=language) == sentence


@pytest.mark.parametrize("language", ["en", "nl", "fr"])
def test_every_code_has_wording(language):
    for action in Action.values:
        for unit in DurationUnit.values:
            sentences = {
                retention_sentence(duration_value=2, duration_unit=unit, trigger=t, action=action, language=language)
                for t in Trigger.values
            }
            assert len(sentences) == len(Trigger.values)
            assert not any("_" in s for s in sentences), "a code leaked into the wording"
        at_trigger = {
            retention_sentence(duration_value=None, duration_unit="", trigger=t, action=action, language=language)
            for t in Trigger.values
        }
        assert len(at_trigger) == len(Trigger.values)
        assert not any("_" in s for s in at_trigger)
