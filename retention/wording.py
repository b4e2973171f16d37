"""How a retention rule reads in the register, in English, Dutch and French.

Pure: the sentence is built from the rule's codes alone, so the register, the exports and the API
say the same thing in every language whatever the interface language is.
"""

_UNITS = {
    "en": {
        "days": ("day", "days"),
        "weeks": ("week", "weeks"),
        "months": ("month", "months"),
        "years": ("year", "years"),
    },
    "nl": {
        "days": ("dag", "dagen"),
        "weeks": ("week", "weken"),
        "months": ("maand", "maanden"),
        "years": ("jaar", "jaar"),
    },
    "fr": {
        "days": ("jour", "jours"),
        "weeks": ("semaine", "semaines"),
        "months": ("mois", "mois"),
        "years": ("an", "ans"),
    },
}

_TRIGGERS = {
    "en": {
        "collection": "collection",
        "first_contact": "the first contact",
        "last_contact": "the last contact",
        "contract_end": "the end of the contract",
        "service_end": "the end of the service",
        "subscription_end": "the end of the subscription",
        "account_closed": "the closing of the account",
        "inactivity": "the last activity",
        "event_end": "the end of the event",
        "competition_end": "the end of the competition",
        "consent_withdrawn": "the withdrawal of consent",
        "financial_year_end_of_last_invoice": "the end of the financial year of the last invoice",
        "controller_request": "the request of the client controller",
        "relevance_end": "the end of the data's relevance",
    },
    "nl": {
        "collection": "de verzameling",
        "first_contact": "het eerste contact",
        "last_contact": "het laatste contact",
        "contract_end": "het einde van de overeenkomst",
        "service_end": "het einde van de dienstverlening",
        "subscription_end": "het einde van het abonnement",
        "account_closed": "het opheffen van het account",
        "inactivity": "de laatste activiteit",
        "event_end": "het einde van het evenement",
        "competition_end": "het einde van de wedstrijd",
        "consent_withdrawn": "de intrekking van de toestemming",
        "financial_year_end_of_last_invoice": "het einde van het boekjaar van de laatste factuur",
        "controller_request": "het verzoek van de klant-verwerkingsverantwoordelijke",
        "relevance_end": "de gegevens niet langer relevant zijn",
    },
    "fr": {
        "collection": "la collecte",
        "first_contact": "le premier contact",
        "last_contact": "le dernier contact",
        "contract_end": "la fin du contrat",
        "service_end": "la fin du service",
        "subscription_end": "la fin de l'abonnement",
        "account_closed": "la clôture du compte",
        "inactivity": "la dernière activité",
        "event_end": "la fin de l'événement",
        "competition_end": "la fin du concours",
        "consent_withdrawn": "le retrait du consentement",
        "financial_year_end_of_last_invoice": "la fin de l'exercice de la dernière facture",
        "controller_request": "la demande du client responsable du traitement",
        "relevance_end": "les données ne sont plus pertinentes",
    },
}

_ACTIONS = {
    "en": {"flag": "Flagged for review", "anonymise": "Anonymised", "delete": "Deleted"},
    "nl": {"flag": "Ter beoordeling gemarkeerd", "anonymise": "Geanonimiseerd", "delete": "Verwijderd"},
    "fr": {"flag": "Signalées pour examen", "anonymise": "Anonymisées", "delete": "Supprimées"},
}

_PATTERNS = {
    "en": {
        "after": "{action} {period} after {trigger}",
        "at": "{action} when {trigger}",
        "at_event": "{action} at {trigger}",
        "after_max": "{action} at most {period} after {trigger}",
        "at_max": "{action} at the latest when {trigger}",
        "at_event_max": "{action} at the latest at {trigger}",
        "statutory": "statutory minimum",
        "none": "no fixed period",
    },
    "nl": {
        "after": "{action} {period} na {trigger}",
        "at": "{action} zodra {trigger}",
        "at_event": "{action} bij {trigger}",
        "after_max": "{action} maximaal {period} na {trigger}",
        "at_max": "{action} uiterlijk zodra {trigger}",
        "at_event_max": "{action} uiterlijk bij {trigger}",
        "statutory": "wettelijke minimumtermijn",
        "none": "geen vaste termijn",
    },
    "fr": {
        "after": "{action} {period} après {trigger}",
        "at": "{action} dès que {trigger}",
        "at_event": "{action} à {trigger}",
        "after_max": "{action} au maximum {period} après {trigger}",
        "at_max": "{action} au plus tard lorsque {trigger}",
        "at_event_max": "{action} au plus tard à {trigger}",
        "statutory": "durée légale minimale",
        "none": "pas de durée fixe",
    },
}

# With no period, these triggers read as a clause ("when consent is withdrawn"), the others as a noun
# ("at the end of the event").
_CLAUSES = {
    "en": {
        "account_closed": "the account is closed",
        "consent_withdrawn": "consent is withdrawn",
        "controller_request": "the client controller asks",
        "relevance_end": "the data is no longer relevant",
    },
    "nl": {
        "account_closed": "het account wordt opgeheven",
        "consent_withdrawn": "de toestemming wordt ingetrokken",
        "controller_request": "de klant erom vraagt",
        "relevance_end": "de gegevens niet langer relevant zijn",
    },
    "fr": {
        "account_closed": "le compte est clôturé",
        "consent_withdrawn": "le consentement est retiré",
        "controller_request": "le client le demande",
        "relevance_end": "les données ne sont plus pertinentes",
    },
}

LANGUAGES = tuple(_PATTERNS)


def retention_sentence(
    *,
    duration_value: int | None,
    duration_unit: str | None,
    trigger: str,
    action: str,
    statutory: bool = False,
    legal_reference: str = "",
    language: str = "en",
    maximum: bool = False,
) -> str:
    """``retention_sentence(duration_value=10, duration_unit="years", trigger="contract_end", action="delete")``
    reads "Deleted 10 years after the end of the contract."; with ``maximum=True``, "Deleted at most 10 years
    after the end of the contract." (a maximum with no period: "at the latest when ...")."""
    language = language[:2] if language[:2] in LANGUAGES else "en"
    patterns = _PATTERNS[language]
    suffix = "_max" if maximum else ""
    parts = {"action": _ACTIONS[language][action], "trigger": _TRIGGERS[language].get(trigger, trigger)}
    if duration_value:
        singular, plural = _UNITS[language][duration_unit]
        parts["period"] = f"{duration_value} {singular if duration_value == 1 else plural}"
        sentence = patterns["after" + suffix].format(**parts)
    elif trigger in _CLAUSES[language]:
        sentence = patterns["at" + suffix].format(action=parts["action"], trigger=_CLAUSES[language][trigger])
    else:
        sentence = patterns["at_event" + suffix].format(**parts)
    if not duration_value and trigger == "relevance_end":
        sentence += f" ({patterns['none']})"
    if statutory:
        sentence += f" ({patterns['statutory']}{': ' + legal_reference if legal_reference else ''})"
    return sentence + "."
