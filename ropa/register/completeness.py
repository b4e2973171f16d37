"""Completeness: the items Article 30 GDPR requires of a register entry that the entry lacks.

Pure: judges an already-resolved ``ActivityEntry`` (or controller) and returns gaps; no queries, no
clock. The XLSX sheet, the PDF section and the admin list all show what these functions return.

A controller's entry (Art. 30(1)) needs purposes, a legal basis per purpose, data subjects, data
categories, recipients, the third countries and their safeguards, time limits for erasure and
security measures. A processor's entry (Art. 30(2)) needs the client controller, the categories of
processing carried out, the transfers and the security measures.
"""

from dataclasses import dataclass

from processing.choices import EEA_COUNTRIES, ActivityRole, LegalBasis

from .entries import ActivityEntry
from .labels import Labels, say


@dataclass(frozen=True)
class Gap:
    """One missing item: a stable code, the article that requires it, and what exactly is missing."""

    code: str
    article: str
    detail: str = ""

    def text(self, language: str) -> str:
        label = say(GAP_LABELS[self.code], language)
        return f"{label}: {self.detail}" if self.detail else label


GAP_LABELS: dict[str, Labels] = {
    "purposes": {
        "en": "No purpose",
        "nl": "Geen doeleinde",
        "fr": "Aucune finalité",
    },
    "legal_basis": {
        "en": "Purpose without a legal basis",
        "nl": "Doeleinde zonder rechtsgrond",
        "fr": "Finalité sans base juridique",
    },
    "legitimate_interest": {
        "en": "Legitimate interest not stated",
        "nl": "Gerechtvaardigd belang niet omschreven",
        "fr": "Intérêt légitime non précisé",
    },
    "art9_condition": {
        "en": "Special-category data without an Art. 9(2) condition",
        "nl": "Bijzondere persoonsgegevens zonder voorwaarde van art. 9.2",
        "fr": "Données sensibles sans condition de l'art. 9.2",
    },
    "data_subjects": {
        "en": "No categories of data subjects",
        "nl": "Geen categorieën van betrokkenen",
        "fr": "Aucune catégorie de personnes concernées",
    },
    "data_categories": {
        "en": "No categories of personal data",
        "nl": "Geen categorieën van persoonsgegevens",
        "fr": "Aucune catégorie de données",
    },
    "recipients": {
        "en": "No recipients recorded",
        "nl": "Geen ontvangers vastgelegd",
        "fr": "Aucun destinataire enregistré",
    },
    "transfer_safeguard": {
        "en": "Transfer outside the EEA without a safeguard",
        "nl": "Doorgifte buiten de EER zonder waarborg",
        "fr": "Transfert hors EEE sans garantie",
    },
    "transfer_country": {
        "en": "Transfer outside the EEA to an unnamed country",
        "nl": "Doorgifte buiten de EER naar een niet vermeld land",
        "fr": "Transfert hors EEE vers un pays non précisé",
    },
    "transfer_unknown": {
        "en": "Not known whether the recipient is outside the EEA",
        "nl": "Niet bekend of de ontvanger buiten de EER is",
        "fr": "Inconnu si le destinataire est hors EEE",
    },
    "retention": {
        "en": "No time limit for erasure",
        "nl": "Geen termijn voor het wissen",
        "fr": "Aucun délai d'effacement",
    },
    "retention_vague": {
        "en": "Time limit without a fixed period",
        "nl": "Termijn zonder vaste duur",
        "fr": "Délai sans durée fixe",
    },
    "security_measures": {
        "en": "No security measures",
        "nl": "Geen beveiligingsmaatregelen",
        "fr": "Aucune mesure de sécurité",
    },
    "client": {
        "en": "Processor activity without its client controller",
        "nl": "Verwerkersactiviteit zonder klant-verwerkingsverantwoordelijke",
        "fr": "Activité de sous-traitance sans responsable client",
    },
    "controller_contact": {
        "en": "No contact details of the controller",
        "nl": "Geen contactgegevens van de verwerkingsverantwoordelijke",
        "fr": "Aucune coordonnée du responsable du traitement",
    },
    "dpo": {
        "en": "No data protection officer, nor why none is designated",
        "nl": "Geen functionaris voor gegevensbescherming, noch waarom er geen is aangesteld",
        "fr": "Aucun délégué à la protection des données, ni pourquoi aucun n'est désigné",
    },
    "dpo_contact": {
        "en": "Data protection officer without contact details",
        "nl": "Functionaris voor gegevensbescherming zonder contactgegevens",
        "fr": "Délégué à la protection des données sans coordonnées",
    },
    "representative": {
        "en": "Controller outside the EEA without a representative",
        "nl": "Verwerkingsverantwoordelijke buiten de EER zonder vertegenwoordiger",
        "fr": "Responsable hors EEE sans représentant",
    },
}


def activity_gaps(entry: ActivityEntry, language: str = "en") -> list[Gap]:
    """What Art. 30(1) (controller) or 30(2) (processor) requires of the entry and it does not hold.
    ``language`` names the categories and recipients a gap lists. The checklist, in the register's column
    order: the client (a processor's), purposes and their bases, subjects and categories, recipients and
    transfers, retention, security measures."""
    processor = entry.activity.role == ActivityRole.PROCESSOR
    gaps: list[Gap] = []
    if processor and not (entry.activity.client or "").strip():
        gaps.append(Gap("client", "30(2)(a)"))
    if not entry.purposes:
        gaps.append(Gap("purposes", "30(2)(b)" if processor else "30(1)(b)"))
    if not processor:
        gaps += _basis_gaps(entry, language)
        gaps += _content_gaps(entry)
    gaps += _transfer_gaps(entry, "30(2)(c)" if processor else "30(1)(e)", language)
    if not processor:
        gaps += _retention_gaps(entry)
    if not entry.security_measures:
        gaps.append(Gap("security_measures", "30(2)(d)" if processor else "30(1)(g)"))
    return gaps


def _basis_gaps(entry: ActivityEntry, language: str) -> list[Gap]:
    """A controller's lawful basis for each purpose (Art. 6), and the Art. 9(2) condition for special data."""
    gaps = []
    for number, purpose in enumerate(entry.purposes, start=1):
        if purpose.legal_basis not in LegalBasis.values:
            gaps.append(Gap("legal_basis", "6(1)", str(number)))
        elif purpose.legal_basis == LegalBasis.LEGITIMATE_INTERESTS and not purpose.legitimate_interest.strip():
            gaps.append(Gap("legitimate_interest", "6(1)(f)", str(number)))
    special = [c.localized(language=language) for c in entry.data_categories if c.special_category]
    if special and not entry.activity.art9_condition:
        gaps.append(Gap("art9_condition", "9(2)", ", ".join(special)))
    return gaps


def _content_gaps(entry: ActivityEntry) -> list[Gap]:
    """Art. 30(1)(c), (d): whose data, which data, to whom."""
    required = (
        ("data_subjects", "30(1)(c)", entry.data_subject_categories),
        ("data_categories", "30(1)(c)", entry.data_categories),
        ("recipients", "30(1)(d)", entry.recipients),
    )
    return [Gap(code, article) for code, article, held in required if not held]


def _transfer_gaps(entry: ActivityEntry, article: str, language: str) -> list[Gap]:
    """Recipients outside the EEA need a safeguard and a country; a recipient's place must be known."""
    outside = [r for r in entry.recipients if r.inside_eea is False]
    listed = (
        ("transfer_safeguard", [r for r in outside if not r.safeguard]),
        ("transfer_country", [r for r in outside if not r.country]),
        ("transfer_unknown", [r for r in entry.recipients if r.inside_eea is None]),
    )
    return [
        Gap(code, article, ", ".join(r.localized(language=language) for r in recipients))
        for code, recipients in listed
        if recipients
    ]


def _retention_gaps(entry: ActivityEntry) -> list[Gap]:
    """Art. 30(1)(f): a retention period, and one that says more than "as long as relevant"."""
    if not entry.retention:
        return [Gap("retention", "30(1)(f)")]
    if all(not item.rule.duration_value and item.rule.trigger == "relevance_end" for item in entry.retention):
        return [Gap("retention_vague", "30(1)(f)")]
    return []


def controller_gaps(controller) -> list[Gap]:
    """Art. 30(1)(a): the controller's name and contact details; its data protection officer's contact
    details, or why none is designated (Art. 37(1)); and its EU representative when needed (Art. 27)."""
    gaps = []
    if not (controller.email or controller.phone or controller.address):
        gaps.append(Gap("controller_contact", "30(1)(a)"))
    reachable = bool(controller.dpo_email or controller.dpo_phone)
    if controller.dpo_name and not reachable:
        gaps.append(Gap("dpo_contact", "30(1)(a), 37(7)"))
    elif not (controller.dpo_name or reachable or controller.dpo_not_required.strip()):
        gaps.append(Gap("dpo", "30(1)(a), 37(1)"))
    country = controller.country.code if controller.country else ""
    if country and country not in EEA_COUNTRIES and not controller.representative.strip():
        gaps.append(Gap("representative", "27, 30(1)(a)"))
    return gaps
