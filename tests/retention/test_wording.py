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


AT_MOST_3_YEARS = {"duration_value": 3, "duration_unit": "years", "trigger": "inactivity", "action": "delete"}
AT_WITHDRAWAL = {"duration_value": None, "duration_unit": "", "trigger": "consent_withdrawn", "action": "flag"}


@pytest.mark.parametrize(
    ("rule", "language", "sentence"),
    [
        (AT_MOST_3_YEARS, "en", "Deleted at most 3 years after the last activity."),
        (AT_MOST_3_YEARS, "nl", "Verwijderd maximaal 3 jaar na de laatste activiteit."),
        (AT_MOST_3_YEARS, "fr", "Supprimées au maximum 3 ans après la dernière activité."),
        (AT_WITHDRAWAL, "en", "Flagged for review at the latest when consent is withdrawn."),
        (AT_WITHDRAWAL, "nl", "Ter beoordeling gemarkeerd uiterlijk zodra de toestemming wordt ingetrokken."),
        (AT_WITHDRAWAL, "fr", "Signalées pour examen au plus tard lorsque le consentement est retiré."),
        (
            {"duration_value": None, "duration_unit": "", "trigger": "event_end", "action": "delete"},
            "en",
            "Deleted at the latest at the end of the event.",
        ),
    ],
)
def test_a_maximum_reads_at_most(rule, language, sentence):
    assert retention_sentence(**rule, maximum=True, language=language) == sentence
    assert retention_sentence(**rule, language=language) != sentence


@pytest.mark.parametrize("language", ["en", "nl", "fr"])
def test_every_code_has_wording_as_a_maximum(language):
    for trigger in Trigger.values:
        for value, unit in ((2, "months"), (None, "")):
            plain = retention_sentence(
                duration_value=value, duration_unit=unit, trigger=trigger, action="delete", language=language
            )
            capped = retention_sentence(
                duration_value=value,
                duration_unit=unit,
                trigger=trigger,
                action="delete",
                maximum=True,
                language=language,
            )
            assert capped != plain and "_" not in capped
