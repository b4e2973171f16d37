"""The export columns, declared once, and the one function that builds the register's rows.

The columns follow the register model of the Belgian Data Protection Authority
(Gegevensbeschermingsautoriteit / Autorité de protection des données): business process, processing
(number, name, purposes, legal basis and its clarification, type), data and data subjects,
recipients, third-country transfers, time limits for erasure, security measures and the status
group, then what this register knows beyond the model. ``mandatory`` marks what Article 30 GDPR
requires; the XLSX colours those headings red as the model does, the PDF marks them too.

XLSX, CSV and PDF all read ``register_rows``; the JSON export (a contract of its own,
docs/register-json.md) reads the same snapshot. A surface only picks a format.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.utils import translation

from processing.models import Controller
from processing.models.base import content_language, marked

from . import labels as L
from .completeness import Gap, activity_gaps
from .entries import ActivityEntry
from .labels import Labels, say
from .snapshot import RegisterSnapshot

Value = str | dt.date | list[str] | None


@dataclass(frozen=True)
class Column:
    """One column of the register: its group, heading per language, and how an entry fills it."""

    key: str
    group: str
    heading: Labels
    value: Callable[[ActivityEntry, str], Value]
    mandatory: bool = False
    article: str = ""
    width: int = 20
    sizes_row: bool = True  # False: a long cell (provenance) scrolls rather than making its row tall


@dataclass(frozen=True)
class ControllerField:
    """One line of the controller's identification (the model's first sheet, the PDF's cover)."""

    key: str
    heading: Labels
    value: Callable[[Controller, str], Value]
    mandatory: bool = False


GROUPS: dict[str, Labels] = {
    "controller": {"en": "Controller", "nl": "Verwerkingsverantwoordelijke", "fr": "Responsable du traitement"},
    "business_process": {"en": "Business process", "nl": "Bedrijfsproces", "fr": "Processus métier"},
    "processing": {"en": "Processing", "nl": "Verwerking", "fr": "Traitement"},
    "data": {
        "en": "Data and data subjects",
        "nl": "Gegevens en betrokkenen",
        "fr": "Données et personnes concernées",
    },
    "recipients": {"en": "Recipients", "nl": "Ontvangers", "fr": "Destinataires"},
    "transfers": {
        "en": "Transfers to third countries",
        "nl": "Doorgifte naar derde landen",
        "fr": "Transferts vers des pays tiers",
    },
    "retention": {"en": "Time limits for erasure", "nl": "Termijnen voor het wissen", "fr": "Délais d'effacement"},
    "security": {"en": "Security measures", "nl": "Beveiligingsmaatregelen", "fr": "Mesures de sécurité"},
    "status": {"en": "Status", "nl": "Status", "fr": "Statut"},
    "additional": {
        "en": "Additional information",
        "nl": "Aanvullende informatie",
        "fr": "Informations complémentaires",
    },
}


# --- How an entry fills the columns ---------------------------------------------------------------


def _original(text: str, language: str) -> str:
    """Register text that has no translations (sources, notes, interests), marked when read in another
    language than the register's own (``[nl] ...``)."""
    return marked(text, content_language(), language)


def _numbered(items: list[str]) -> list[str]:
    """Several purposes are numbered, so that a legal basis reads against its purpose."""
    items = [item for item in items if item]
    return items if len(items) < 2 else [f"{n}. {item}" for n, item in enumerate(items, start=1)]


def _numbered_pairs(pairs: list[tuple[int, str]], total: int) -> list[str]:
    return [text if total < 2 else f"{n}. {text}" for n, text in pairs if text]


def _country(country, language: str) -> str:
    if not country:
        return ""
    with translation.override(language):
        return str(country.name)


def _purposes(entry: ActivityEntry, language: str) -> list[str]:
    return _numbered([p.localized_marked("description", language) for p in entry.purposes])


def _legal_bases(entry: ActivityEntry, language: str) -> list[str]:
    pairs = [(n, L.choice(L.LEGAL_BASIS, p.legal_basis, language)) for n, p in enumerate(entry.purposes, start=1)]
    return _numbered_pairs(pairs, len(entry.purposes))


def _clarification(entry: ActivityEntry, language: str) -> list[str]:
    pairs = [(n, _original(p.legitimate_interest.strip(), language)) for n, p in enumerate(entry.purposes, start=1)]
    lines = _numbered_pairs(pairs, len(entry.purposes))
    if entry.activity.art9_condition:
        condition = L.choice(L.ART9_CONDITION, entry.activity.art9_condition, language)
        lines.append(f"{say(L.WORDS['art9_condition'], language)}: {condition}")
    return lines


def _processing_type(entry: ActivityEntry, language: str) -> list[str]:
    activity = entry.activity
    kinds = [
        ("special_category", any(c.special_category for c in entry.data_categories)),
        ("criminal", any(c.criminal for c in entry.data_categories)),
        ("profiling", activity.profiling),
        ("automated_decision_making", activity.automated_decision_making),
        ("processor", activity.role == "processor"),
    ]
    found = [say(L.PROCESSING_TYPE[code], language) for code, present in kinds if present]
    return found or [say(L.PROCESSING_TYPE["normal"], language)]


def _functional_categories(entry: ActivityEntry, language: str) -> list[str]:
    return [
        f"{c.localized_marked(language=language)}: {_original(c.description, language)}"
        if c.description
        else c.localized_marked(language=language)
        for c in entry.data_categories
    ]


def _gdpr_categories(entry: ActivityEntry, language: str) -> list[str]:
    lines = []
    for category in entry.data_categories:
        marks = [say(L.WORDS[flag], language) for flag in ("art9", "art10") if getattr(category, _FLAG[flag])]
        name = category.localized_marked(language=language)
        lines.append(f"{name} ({', '.join(marks)})" if marks else name)
    return lines


_FLAG = {"art9": "special_category", "art10": "criminal"}


def _subjects(entry: ActivityEntry, language: str) -> list[str]:
    return [s.localized_marked(language=language) for s in entry.data_subject_categories]


def _recipients(entry: ActivityEntry, language: str) -> list[str]:
    lines = []
    for recipient in entry.recipients:
        details = [L.choice(L.RECIPIENT_KIND, recipient.kind, language), _country(recipient.country, language)]
        lines.append(f"{recipient.localized_marked(language=language)} ({', '.join(d for d in details if d)})")
    return lines


def _outside_eea(entry: ActivityEntry):
    return [r for r in entry.recipients if r.inside_eea is False]


def _third_countries(entry: ActivityEntry, language: str) -> list[str]:
    unnamed = say(L.WORDS["country_unknown"], language)
    lines = [
        f"{_country(r.country, language) or unnamed}: {r.localized_marked(language=language)}"
        for r in _outside_eea(entry)
    ]
    unknown = [r.localized_marked(language=language) for r in entry.recipients if r.inside_eea is None]
    if unknown:
        lines.append(f"{say(L.WORDS['eea_unknown'], language)}: {', '.join(unknown)}")
    if not lines:
        lines.append(say(L.WORDS["no_transfer" if entry.recipients else "none"], language))
    return lines


def _safeguards(entry: ActivityEntry, language: str) -> list[str]:
    lines = []
    for recipient in _outside_eea(entry):
        safeguard = L.choice(L.SAFEGUARD, recipient.safeguard, language) or say(L.WORDS["no_safeguard"], language)
        note = f" ({_original(recipient.safeguard_note, language)})" if recipient.safeguard_note else ""
        lines.append(f"{recipient.localized_marked(language=language)}: {safeguard}{note}")
    return lines or [say(L.WORDS["not_applicable"], language)]


def retention_lines(entry: ActivityEntry, language: str) -> list[str]:
    """Each rule as the sentence the register renders, narrowed to its data category when it is."""
    lines = []
    for item in entry.retention:
        sentence = item.rule.sentence(language)
        if item.data_category is not None:
            sentence = f"{item.data_category.localized_marked(language=language)}: {sentence}"
        if item.rule.note:
            sentence = f"{sentence} {_original(item.rule.note, language)}"
        lines.append(sentence)
    return lines


def _measures(entry: ActivityEntry, language: str) -> list[str]:
    return [m.localized_marked(language=language) for m in entry.security_measures]


def _replaced_by(entry: ActivityEntry, language: str) -> str:
    successor = entry.replaced_by
    return f"{successor.reference} {successor.localized_marked(language=language)}" if successor else ""


def _dpia(entry: ActivityEntry, language: str) -> str:
    activity = entry.activity
    if activity.dpia_required is None:
        return say(L.WORDS["dpia_not_assessed"], language)
    if not activity.dpia_required:
        return say(L.WORDS["dpia_not_required"], language)
    if activity.dpia_done_on:
        return say(L.WORDS["dpia_done"], language).format(date=activity.dpia_done_on.isoformat())
    return say(L.WORDS["dpia_pending"], language)


def _data_source(entry: ActivityEntry, language: str) -> list[str]:
    lines = [_original(entry.activity.data_source, language)] if entry.activity.data_source else []
    if entry.activity.minimum_age is not None:
        lines.append(f"{say(L.WORDS['minimum_age'], language)}: {entry.activity.minimum_age}")
    return lines


def _sources(entry: ActivityEntry, language: str) -> list[str]:
    return [f"“{source.quote}” ({source.statement})" for source in entry.sources]


REGISTER_COLUMNS: tuple[Column, ...] = (
    Column(
        "controller",
        "controller",
        GROUPS["controller"],
        lambda e, lang: e.controller.name,
        width=30,
    ),
    Column(
        "business_process",
        "business_process",
        {"en": "Name of the business process", "nl": "Naam bedrijfsproces", "fr": "Nom du processus métier"},
        lambda e, lang: _original(e.activity.business_process, lang),
        width=18,
    ),
    Column(
        "owner",
        "business_process",
        {"en": "Owner of the process", "nl": "Eigenaar van het proces", "fr": "Propriétaire du processus"},
        lambda e, lang: e.activity.owner,
        width=16,
    ),
    Column(
        "reference",
        "processing",
        {"en": "Number", "nl": "Nummer", "fr": "Numéro"},
        lambda e, lang: e.activity.reference,
        width=10,
    ),
    Column(
        "name",
        "processing",
        {"en": "Processing", "nl": "Verwerking", "fr": "Traitement"},
        lambda e, lang: e.activity.localized_marked(language=lang),
        width=30,
    ),
    Column(
        "purposes",
        "processing",
        {"en": "Purposes of the processing", "nl": "Doeleinden van de verwerking", "fr": "Finalités du traitement"},
        _purposes,
        mandatory=True,
        article="30(1)(b)",
        width=42,
    ),
    Column(
        "legal_basis",
        "processing",
        {"en": "Legal basis", "nl": "Rechtsgrond", "fr": "Base juridique"},
        _legal_bases,
        article="6(1)",
        width=28,
    ),
    Column(
        "legal_basis_clarification",
        "processing",
        {"en": "Clarification of the legal basis", "nl": "Verduidelijking rechtsgrond", "fr": "Précision"},
        _clarification,
        width=28,
    ),
    Column(
        "processing_type",
        "processing",
        {"en": "Type of processing", "nl": "Type verwerking", "fr": "Type de traitement"},
        _processing_type,
        width=20,
    ),
    Column(
        "functional_data_categories",
        "data",
        {
            "en": "Functional data categories",
            "nl": "Functionele gegevenscategorieën",
            "fr": "Catégories fonctionnelles de données",
        },
        _functional_categories,
        width=34,
    ),
    Column(
        "gdpr_data_categories",
        "data",
        {
            "en": "Categories of personal data (GDPR)",
            "nl": "Categorieën van persoonsgegevens (AVG)",
            "fr": "Catégories de données à caractère personnel (RGPD)",
        },
        _gdpr_categories,
        mandatory=True,
        article="30(1)(c)",
        width=28,
    ),
    Column(
        "data_subjects",
        "data",
        {"en": "Categories of data subjects", "nl": "Categorieën van betrokkenen", "fr": "Personnes concernées"},
        _subjects,
        mandatory=True,
        article="30(1)(c)",
        width=24,
    ),
    Column(
        "recipients",
        "recipients",
        {"en": "Categories of recipients", "nl": "Categorieën van ontvangers", "fr": "Catégories de destinataires"},
        _recipients,
        mandatory=True,
        article="30(1)(d)",
        width=36,
    ),
    Column(
        "third_countries",
        "transfers",
        {
            "en": "Third country or international organisation",
            "nl": "Derde land of internationale organisatie",
            "fr": "Pays tiers ou organisation internationale",
        },
        _third_countries,
        mandatory=True,
        article="30(1)(e)",
        width=26,
    ),
    Column(
        "safeguards",
        "transfers",
        {"en": "Appropriate safeguards", "nl": "Passende waarborgen", "fr": "Garanties appropriées"},
        _safeguards,
        mandatory=True,
        article="30(1)(e)",
        width=30,
    ),
    Column(
        "retention",
        "retention",
        {
            "en": "Envisaged time limits for erasure",
            "nl": "Beoogde termijnen voor het wissen",
            "fr": "Délais prévus pour l'effacement",
        },
        retention_lines,
        mandatory=True,
        article="30(1)(f)",
        width=42,
    ),
    Column(
        "security_measures",
        "security",
        {
            "en": "Technical and organisational security measures",
            "nl": "Technische en organisatorische beveiligingsmaatregelen",
            "fr": "Mesures de sécurité techniques et organisationnelles",
        },
        _measures,
        mandatory=True,
        article="30(1)(g)",
        width=36,
    ),
    Column(
        "status",
        "status",
        {"en": "Status", "nl": "Status", "fr": "Statut"},
        lambda e, lang: L.choice(L.STATUS, e.activity.status, lang),
        width=11,
    ),
    Column(
        "ended_on",
        "status",
        {"en": "End date of the processing", "nl": "Einddatum verwerking", "fr": "Date de fin du traitement"},
        lambda e, lang: e.activity.ended_on,
        width=13,
    ),
    Column(
        "replaced_by",
        "status",
        {"en": "Replacing processing", "nl": "Vervangende verwerking", "fr": "Traitement de remplacement"},
        _replaced_by,
        width=24,
    ),
    Column(
        "role",
        "additional",
        {"en": "Role", "nl": "Rol", "fr": "Rôle"},
        lambda e, lang: L.choice(L.ROLE, e.activity.role, lang),
        width=20,
    ),
    Column(
        "client",
        "additional",
        {
            "en": "Client controller (processor activities)",
            "nl": "Klant (als verwerker)",
            "fr": "Responsable client (sous-traitance)",
        },
        lambda e, lang: e.activity.client,
        article="30(2)(a)",
        width=22,
    ),
    Column(
        "data_source",
        "additional",
        {"en": "Source of the data", "nl": "Herkomst van de gegevens", "fr": "Origine des données"},
        _data_source,
        width=24,
    ),
    Column(
        "dpia",
        "additional",
        {"en": "DPIA (Art. 35)", "nl": "GEB (art. 35)", "fr": "AIPD (art. 35)"},
        _dpia,
        width=16,
    ),
    Column(
        "last_reviewed_on",
        "additional",
        {"en": "Last reviewed on", "nl": "Laatst herzien op", "fr": "Dernière révision"},
        lambda e, lang: e.activity.last_reviewed_on,
        width=13,
    ),
    Column(
        "sources",
        "additional",
        {
            "en": "Source: sentences of the privacy statement",
            "nl": "Bron: zinnen uit de privacyverklaring",
            "fr": "Source : phrases de la déclaration de confidentialité",
        },
        _sources,
        width=60,
        sizes_row=False,
    ),
)


COLUMN: dict[str, Column] = {column.key: column for column in REGISTER_COLUMNS}


def heading(key: str, language: str) -> str:
    """The heading of the register column ``key`` in ``language``."""
    return say(COLUMN[key].heading, language)


def _dpo_staff(controller: Controller, language: str) -> str:
    if not (controller.dpo_name or controller.dpo_email):
        return ""
    return L.yes_no(controller.dpo_is_staff, language)


def _statement(controller: Controller, language: str) -> str:
    title = controller.statement_title or controller.statement_file
    if title and controller.statement_date:
        return f"{title} ({controller.statement_date.isoformat()})"
    return title


CONTROLLER_FIELDS: tuple[ControllerField, ...] = (
    ControllerField(
        "name",
        {"en": "Name", "nl": "Naam", "fr": "Dénomination"},
        lambda c, lang: c.name,
        mandatory=True,
    ),
    ControllerField(
        "enterprise_number",
        {"en": "KBO/BCE number", "nl": "KBO-nummer", "fr": "Numéro BCE"},
        lambda c, lang: c.enterprise_number,
    ),
    ControllerField(
        "address", {"en": "Address", "nl": "Adres", "fr": "Adresse"}, lambda c, lang: c.address, mandatory=True
    ),
    ControllerField(
        "country", {"en": "Country", "nl": "Land", "fr": "Pays"}, lambda c, lang: _country(c.country, lang)
    ),
    ControllerField(
        "phone",
        {"en": "General phone number", "nl": "Algemeen telefoonnummer", "fr": "Numéro de téléphone général"},
        lambda c, lang: c.phone,
        mandatory=True,
    ),
    ControllerField(
        "email",
        {"en": "General e-mail address", "nl": "Algemeen e-mailadres", "fr": "Adresse e-mail générale"},
        lambda c, lang: c.email,
        mandatory=True,
    ),
    ControllerField("website", {"en": "Website", "nl": "Website", "fr": "Site web"}, lambda c, lang: c.website),
    ControllerField(
        "dpo_name",
        {
            "en": "Data protection officer",
            "nl": "Functionaris voor gegevensbescherming",
            "fr": "Délégué à la protection des données",
        },
        lambda c, lang: c.dpo_name,
        mandatory=True,
    ),
    ControllerField(
        "dpo_phone",
        {"en": "DPO phone number", "nl": "Telefoonnummer DPO", "fr": "Téléphone du DPO"},
        lambda c, lang: c.dpo_phone,
        mandatory=True,
    ),
    ControllerField(
        "dpo_email",
        {"en": "DPO e-mail address", "nl": "E-mailadres DPO", "fr": "Adresse e-mail du DPO"},
        lambda c, lang: c.dpo_email,
        mandatory=True,
    ),
    ControllerField(
        "dpo_is_staff",
        {"en": "DPO is a member of staff", "nl": "DPO is personeelslid", "fr": "Le DPO fait partie du personnel"},
        _dpo_staff,
    ),
    ControllerField(
        "dpo_not_required",
        {
            "en": "No DPO designated: why",
            "nl": "Geen DPO aangesteld: waarom",
            "fr": "Pas de DPO désigné : pourquoi",
        },
        lambda c, lang: c.dpo_not_required,
    ),
    ControllerField(
        "representative",
        {
            "en": "Representative in the EU (Art. 27)",
            "nl": "Vertegenwoordiger in de EU (art. 27)",
            "fr": "Représentant dans l'UE (art. 27)",
        },
        lambda c, lang: c.representative,
        mandatory=True,
    ),
    ControllerField(
        "supervisory_authority",
        {"en": "Supervisory authority", "nl": "Toezichthoudende autoriteit", "fr": "Autorité de contrôle"},
        lambda c, lang: c.supervisory_authority,
    ),
    ControllerField("group", {"en": "Group", "nl": "Groep", "fr": "Groupe"}, lambda c, lang: c.group),
    ControllerField(
        "statement",
        {"en": "Source document", "nl": "Brondocument", "fr": "Document source"},
        _statement,
    ),
)


@dataclass(frozen=True)
class RegisterRow:
    """One activity as every tabular format shows it: the declared columns' values and its gaps."""

    entry: ActivityEntry
    values: tuple[Value, ...]
    gaps: tuple[Gap, ...]


def register_rows(snapshot: RegisterSnapshot, *, language: str) -> Iterator[RegisterRow]:
    """The register, one row per activity (controllers by name, activities by number), in ``language``."""
    for controller in snapshot.controllers:
        for entry in snapshot.activities(controller):
            yield RegisterRow(
                entry=entry,
                values=tuple(column.value(entry, language) for column in REGISTER_COLUMNS),
                gaps=tuple(activity_gaps(entry, language)),
            )


def controller_values(controller: Controller, *, language: str) -> list[tuple[ControllerField, Value]]:
    return [(f, f.value(controller, language)) for f in CONTROLLER_FIELDS]


def as_text(value: Value, separator: str = "\n") -> str:
    """A cell's value as plain text: lists one item per line, dates as ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, list):
        return separator.join(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
