"""The breach register as documents: for auditors, the register of Art. 33(5) (one row per breach, as CSV,
XLSX and PDF); for the authority, a breach's summary in the order of its notification form, to copy into
its portal.

Both say what the register knows of a breach: its clock, its scope's counts, its latest assessment, its
filings, the Art. 34 outcome, and the DPO's texts Art. 33(5) asks for (the facts, the effects, the remedial
action). Never a data subject's identifier: a scope keeps counts, and nothing here reads a person. The
headings come in en/nl/fr from ``BREACH_COLUMNS`` (as ``ropa.register.columns``); the words of the cells
and of the summary are the interface's translations, read under ``translation.override(language)``.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from django.db.models import QuerySet, prefetch_related_objects
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from processing.models import DataCategory
from ropa.kernel.csv import csv_writer
from ropa.kernel.dates import local_minute
from ropa.register import labels as L
from ropa.register.labels import Labels, say
from ropa.register.pdf_layout import FONT, LINE, MUTED, Canvas, layout, register_fonts, styles_for_pdf

from .choices import FilingPhase
from .models import Breach, BreachCommunication, BreachFiling, BreachScope, RiskAssessment

Cell = str | int | list[str]
PREFETCH = ("other_controllers", "scopes", "assessments", "filings", "communications", "legal_holds__activity")


@dataclass(frozen=True)
class BreachFacts:
    """A breach with what its documents read: the latest scope and assessment, the filings, the
    communication that was sent, and the data categories its scope names (by code)."""

    breach: Breach
    scope: BreachScope | None
    assessment: RiskAssessment | None
    initial: BreachFiling | None
    complementary: BreachFiling | None
    informed: BreachCommunication | None
    categories: dict[str, DataCategory]


def breach_facts(breaches: Iterable[Breach]) -> list[BreachFacts]:
    """The facts of ``breaches`` (a queryset or instances), in their order, in a fixed number of queries."""
    if isinstance(breaches, QuerySet):
        breaches = list(breaches.select_related("controller", "owner").prefetch_related(*PREFETCH))
    else:
        breaches = list(breaches)
        prefetch_related_objects(breaches, "controller", "owner", *PREFETCH)
    scopes = {b.pk: max(b.scopes.all(), key=lambda s: (s.computed_at, s.pk), default=None) for b in breaches}
    codes = {code for s in scopes.values() if s for code in [*s.counts.get("per_category", {}), *_special(s)]}
    categories = {c.code: c for c in DataCategory.objects.filter(code__in=codes)}
    facts = []
    for breach in breaches:
        filings = sorted(breach.filings.all(), key=lambda f: (f.filed_at, f.pk))
        sent = [c for c in breach.communications.all() if c.sent_at is not None]
        facts.append(
            BreachFacts(
                breach=breach,
                scope=scopes[breach.pk],
                assessment=max(breach.assessments.all(), key=lambda a: a.version, default=None),
                initial=next((f for f in filings if f.phase == FilingPhase.INITIAL), None),
                complementary=next((f for f in reversed(filings) if f.phase == FilingPhase.COMPLEMENTARY), None),
                informed=max(sent, key=lambda c: (c.sent_at, c.pk), default=None),
                categories=categories,
            )
        )
    return facts


# --- What the cells say ---------------------------------------------------------------------------------


def _special(scope: BreachScope) -> list[str]:
    return scope.counts.get("special_categories", [])


def _moment(value) -> str:
    return local_minute(value) if value else ""


def _category(facts: BreachFacts, code: str, language: str) -> str:
    category = facts.categories.get(code)
    return category.localized_marked(language=language) if category else code


def affected(scope: BreachScope | None, kind: str) -> str:
    """The records or people (``kind``: records, subjects) a scope counted, with the range the DPO set."""
    if scope is None:
        return ""
    counted = scope.counts.get(kind, 0)
    low, high = getattr(scope, f"{kind}_min"), getattr(scope, f"{kind}_max")
    if low is None and high is None:
        return str(counted)
    if low is not None and high is not None:
        span = str(low) if low == high else f"{low}-{high}"
    elif low is not None:
        span = _("at least %(n)s") % {"n": low}
    else:
        span = _("at most %(n)s") % {"n": high}
    return _("%(counted)s counted, corrected to %(range)s") % {"counted": counted, "range": span}


def art34_outcome(facts: BreachFacts) -> str:
    """Whether the people were told (by what, when) or on what ground not (Art. 34(3)); blank: neither yet."""
    if facts.informed is not None:
        values = {"method": facts.informed.get_method_display(), "moment": _moment(facts.informed.sent_at)}
        return _("The data subjects were informed by %(method)s on %(moment)s (Art. 34).") % values
    if facts.breach.waiver:
        return _("The data subjects are not informed: %(ground)s") % {"ground": facts.breach.get_waiver_display()}
    return ""


def _natures(facts: BreachFacts, language: str) -> list[str]:
    return [str(Breach._meta.get_field(name).verbose_name) for name in facts.breach.natures()]


def _filed(filing: BreachFiling | None) -> str:
    if filing is None:
        return ""
    return f"{_moment(filing.filed_at)} ({filing.reference})" if filing.reference else _moment(filing.filed_at)


def _late(facts: BreachFacts, language: str) -> str:
    if facts.initial is None:
        return ""
    return L.yes_no(facts.initial.filed_at > facts.breach.notification_due_at, language)


def _assessed(field: str) -> Callable[[BreachFacts, str], str]:
    return lambda f, lang: getattr(f.assessment, field) if f.assessment else ""


@dataclass(frozen=True)
class BreachColumn:
    """One column of the breach register: its heading per language, and how a breach fills it."""

    key: str
    heading: Labels
    value: Callable[[BreachFacts, str], Cell]
    width: int = 16


BREACH_COLUMNS: tuple[BreachColumn, ...] = (
    BreachColumn("id", {"en": "No.", "nl": "Nr.", "fr": "N°"}, lambda f, lang: f.breach.pk, 6),
    BreachColumn(
        "controller",
        {"en": "Controller", "nl": "Verwerkingsverantwoordelijke", "fr": "Responsable du traitement"},
        lambda f, lang: [f.breach.controller.name, *(c.name for c in f.breach.other_controllers.all())],
        24,
    ),
    BreachColumn("title", {"en": "Title", "nl": "Titel", "fr": "Titre"}, lambda f, lang: f.breach.title, 28),
    BreachColumn(
        "status", {"en": "Status", "nl": "Status", "fr": "Statut"}, lambda f, lang: f.breach.get_status_display()
    ),
    BreachColumn(
        "aware_at",
        {"en": "Aware at", "nl": "Kennis genomen op", "fr": "Prise de connaissance le"},
        lambda f, lang: _moment(f.breach.aware_at),
    ),
    BreachColumn(
        "occurred_from",
        {"en": "Occurred from", "nl": "Voorgevallen vanaf", "fr": "Survenue à partir du"},
        lambda f, lang: _moment(f.breach.occurred_from),
    ),
    BreachColumn(
        "occurred_until",
        {"en": "Occurred until", "nl": "Voorgevallen tot", "fr": "Survenue jusqu'au"},
        lambda f, lang: _moment(f.breach.occurred_until),
    ),
    BreachColumn("natures", {"en": "Nature", "nl": "Aard", "fr": "Nature"}, _natures),
    BreachColumn(
        "notification_due_at",
        {
            "en": "Notification deadline (Art. 33(1))",
            "nl": "Uiterste meldingsdatum (art. 33.1 AVG)",
            "fr": "Délai de notification (art. 33.1 RGPD)",
        },
        lambda f, lang: _moment(f.breach.notification_due_at),
    ),
    BreachColumn(
        "risk",
        {"en": "Risk (latest assessment)", "nl": "Risico (laatste beoordeling)", "fr": "Risque (dernière évaluation)"},
        lambda f, lang: f.assessment.get_level_display() if f.assessment else "",
        22,
    ),
    BreachColumn(
        "records",
        {"en": "Records affected", "nl": "Getroffen records", "fr": "Enregistrements concernés"},
        lambda f, lang: affected(f.scope, "records"),
    ),
    BreachColumn(
        "subjects",
        {"en": "Data subjects affected", "nl": "Getroffen betrokkenen", "fr": "Personnes concernées touchées"},
        lambda f, lang: affected(f.scope, "subjects"),
    ),
    BreachColumn(
        "special_categories",
        {
            "en": "Special categories (Art. 9, 10)",
            "nl": "Bijzondere categorieën (art. 9, 10 AVG)",
            "fr": "Catégories particulières (art. 9, 10 RGPD)",
        },
        lambda f, lang: [_category(f, code, lang) for code in _special(f.scope)] if f.scope else [],
        20,
    ),
    BreachColumn(
        "facts",
        {"en": "Facts (Art. 33(5))", "nl": "Feiten (art. 33.5 AVG)", "fr": "Faits (art. 33.5 RGPD)"},
        lambda f, lang: f.breach.description,
        40,
    ),
    BreachColumn("effects", {"en": "Effects", "nl": "Gevolgen", "fr": "Effets"}, _assessed("consequences"), 34),
    BreachColumn(
        "remedial_action",
        {"en": "Remedial action taken", "nl": "Genomen corrigerende maatregelen", "fr": "Mesures correctrices prises"},
        _assessed("mitigations"),
        34,
    ),
    BreachColumn(
        "initial_filed_at",
        {"en": "Notified to the authority on", "nl": "Gemeld aan de autoriteit op", "fr": "Notifiée à l'autorité le"},
        lambda f, lang: _moment(f.initial.filed_at) if f.initial else "",
    ),
    BreachColumn(
        "initial_reference",
        {"en": "Authority's reference", "nl": "Referentie van de autoriteit", "fr": "Référence de l'autorité"},
        lambda f, lang: f.initial.reference if f.initial else "",
    ),
    BreachColumn(
        "initial_late",
        {"en": "Notified late", "nl": "Laattijdig gemeld", "fr": "Notifiée tardivement"},
        _late,
        11,
    ),
    BreachColumn(
        "complementary",
        {
            "en": "Complementary notification (Art. 33(4))",
            "nl": "Aanvullende melding (art. 33.4 AVG)",
            "fr": "Notification complémentaire (art. 33.4 RGPD)",
        },
        lambda f, lang: _filed(f.complementary),
        20,
    ),
    BreachColumn(
        "art34",
        {
            "en": "Data subjects (Art. 34)",
            "nl": "Betrokkenen (art. 34 AVG)",
            "fr": "Personnes concernées (art. 34 RGPD)",
        },
        lambda f, lang: art34_outcome(f),
        34,
    ),
    BreachColumn(
        "closed_at",
        {"en": "Closed at", "nl": "Afgesloten op", "fr": "Clôturée le"},
        lambda f, lang: _moment(f.breach.closed_at),
    ),
)

WORDS: dict[str, Labels] = {
    "title": {
        "en": "Register of personal-data breaches",
        "nl": "Register van inbreuken in verband met persoonsgegevens",
        "fr": "Registre des violations de données à caractère personnel",
    },
    "subtitle": {
        "en": "Article 33(5) of the General Data Protection Regulation (GDPR)",
        "nl": "Artikel 33.5 van de Algemene Verordening Gegevensbescherming (AVG)",
        "fr": "Article 33.5 du Règlement général sur la protection des données (RGPD)",
    },
    "sheet": {"en": "Breaches", "nl": "Inbreuken", "fr": "Violations"},
    "count": {"en": "Breaches", "nl": "Inbreuken", "fr": "Violations"},
    "empty": {"en": "No breach recorded.", "nl": "Geen inbreuk geregistreerd.", "fr": "Aucune violation enregistrée."},
    "breach": {"en": "Breach", "nl": "Inbreuk", "fr": "Violation"},
    "timeline": {"en": "Timeline", "nl": "Tijdlijn", "fr": "Chronologie"},
    "scope": {"en": "Scope and risk", "nl": "Omvang en risico", "fr": "Ampleur et risque"},
    "filings": {"en": "Notifications", "nl": "Meldingen", "fr": "Notifications"},
}


def register_table(breaches: Iterable[Breach], language: str) -> tuple[list[str], list[dict[str, Cell]]]:
    """The headings and, per breach, its cells by column key, in ``language``."""
    with translation.override(language):
        rows = [{c.key: c.value(f, language) for c in BREACH_COLUMNS} for f in breach_facts(breaches)]
    return [say(c.heading, language) for c in BREACH_COLUMNS], rows


def as_text(value: Cell, separator: str = "\n") -> str:
    return separator.join(value) if isinstance(value, list) else str(value)


# --- CSV and XLSX ---------------------------------------------------------------------------------------


def write_csv(breaches: Iterable[Breach], out: IO[bytes], language: str, delimiter: str = ",") -> int:
    """The register as CSV (UTF-8 with a byte-order mark, every cell defused); returns the number of breaches."""
    headings, rows = register_table(breaches, language)
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv_writer(text, dialect="excel", delimiter=delimiter)
    writer.writerow(headings)
    for row in rows:
        writer.writerow([as_text(row[c.key]) for c in BREACH_COLUMNS])
    text.flush()
    text.detach()  # leave ``out`` open for the caller
    return len(rows)


_SIDE = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_SIDE, right=_SIDE, top=_SIDE, bottom=_SIDE)
_WRAP = Alignment(vertical="top", wrap_text=True)
LINE_HEIGHT, MAX_LINES, MAX_CELL = 13.5, 15, 32_000  # as ropa.register.xlsx: 10 pt text, long cells scroll


def _lines(text: str, width: float) -> int:
    per_line = max(1, int(width * 1.15))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def _put(sheet, row: int, column: int, value: Cell, *, font: Font, fill: PatternFill | None = None) -> int:
    """Write one cell (text always as text, never a formula); return the lines it takes."""
    cell = sheet.cell(row=row, column=column)
    cell.font, cell.border, cell.alignment = font, _BORDER, _WRAP
    if fill is not None:
        cell.fill = fill
    if isinstance(value, int):
        cell.value = value
        return 1
    text = ILLEGAL_CHARACTERS_RE.sub("", as_text(value))[:MAX_CELL]
    cell.value = text or None
    cell.data_type = "s"  # "=..." stays the text it is
    return _lines(text, BREACH_COLUMNS[column - 1].width)


def write_xlsx(breaches: Iterable[Breach], out: IO[bytes], language: str) -> int:
    """The register as a workbook: one sheet, grey headings, frozen and filtered, printed landscape on A4."""
    headings, rows = register_table(breaches, language)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = say(WORDS["sheet"], language)
    bold, plain, grey = Font(bold=True, size=10), Font(size=10), PatternFill("solid", fgColor="D9D9D9")
    lines = max(_put(sheet, 1, col, h, font=bold, fill=grey) for col, h in enumerate(headings, start=1))
    sheet.row_dimensions[1].height = min(lines, MAX_LINES) * LINE_HEIGHT + 3
    for number, row in enumerate(rows, start=2):
        values = [row[c.key] for c in BREACH_COLUMNS]
        lines = max(_put(sheet, number, col, value, font=plain) for col, value in enumerate(values, start=1))
        sheet.row_dimensions[number].height = min(lines, MAX_LINES) * LINE_HEIGHT + 3
    for col, column in enumerate(BREACH_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = column.width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(BREACH_COLUMNS))}{len(rows) + 1}"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation, sheet.page_setup.paperSize = "landscape", sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    workbook.properties.title, workbook.properties.subject = (
        say(WORDS["title"], language),
        say(WORDS["subtitle"], language),
    )
    workbook.properties.creator = "ropa"
    workbook.save(out)
    return len(rows)


# --- PDF ------------------------------------------------------------------------------------------------

_COLUMN = {c.key: c for c in BREACH_COLUMNS}

# The PDF's columns, each a group of the register's: a landscape page holds eight readable columns, not 22.
PDF_COLUMNS: tuple[tuple[Labels, tuple[str, ...], int], ...] = (
    (_COLUMN["id"].heading, ("id",), 4),
    (WORDS["breach"], ("title", "controller", "status", "natures"), 20),
    (WORDS["timeline"], ("aware_at", "occurred_from", "occurred_until", "notification_due_at", "closed_at"), 19),
    (WORDS["scope"], ("risk", "records", "subjects", "special_categories"), 18),
    (_COLUMN["facts"].heading, ("facts",), 26),
    (_COLUMN["effects"].heading, ("effects",), 22),
    (_COLUMN["remedial_action"].heading, ("remedial_action",), 22),
    (WORDS["filings"], ("initial_filed_at", "initial_reference", "initial_late", "complementary", "art34"), 25),
)


def _pdf_cell(row: dict[str, Cell], keys: tuple[str, ...], language: str) -> str:
    """A PDF cell as HTML: one column's text as it is, a group's as "heading: value" lines, the headings in
    bold (the title bare)."""
    if len(keys) == 1:
        return _html_text(as_text(row[keys[0]]))
    lines = [
        _html_text(as_text(row[key], ", "))
        if key == "title"
        else f"<b>{html.escape(say(_COLUMN[key].heading, language))}:</b> {_html_text(as_text(row[key], ', '))}"
        for key in keys
        if as_text(row[key])
    ]
    return "<br>".join(lines)


LONG_WORD = re.compile(r"\S{31,}")


def _html_text(text: str) -> str:
    """Text for a PDF cell: a word longer than 30 characters (a URL, a file path) in pieces, or it would
    widen its column to its own length at the others' expense."""
    text = LONG_WORD.sub(lambda m: " ".join(m[0][i : i + 30] for i in range(0, len(m[0]), 30)), text)
    return html.escape(text).replace("\n", "<br>")


def _pdf_html(rows: list[dict[str, Cell]], language: str) -> str:
    title = say(WORDS["title"], language)
    generated = f"{say(L.WORDS['generated_at'], language)} {local_minute(timezone.now())}"
    stamp = f"{generated} · {say(WORDS['count'], language)}: {len(rows)}"
    widths = ",".join(str(width) for _heading, _keys, width in PDF_COLUMNS)
    head = "".join(f"<th>{html.escape(say(heading, language))}</th>" for heading, _keys, _width in PDF_COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{_pdf_cell(row, keys, language)}</td>" for _h, keys, _w in PDF_COLUMNS) + "</tr>"
        for row in rows
    )
    empty = "" if rows else f'<p class="muted">{html.escape(say(WORDS["empty"], language))}</p>'
    return (
        f'<div data-running="{html.escape(title)}"></div><h1>{html.escape(title)}</h1>'
        f'<p class="subtitle">{html.escape(say(WORDS["subtitle"], language))}</p>'
        f'<p class="stamp">{html.escape(stamp)}</p>{empty}'
        f'<table data-widths="{widths}"><thead><tr>{head}</tr></thead>{body}</table>'
    )


class _LandscapeCanvas(Canvas):
    """The register's canvas ("page N of M" filled in at the end), its footer across a landscape page."""

    def footer(self) -> None:
        self._pages += 1
        width = self._pagesize[0]
        self.saveState()
        self.setFont(FONT, 7)
        self.setFillColor(MUTED)
        self.setStrokeColor(LINE)
        self.setLineWidth(0.25)
        self.line(15 * mm, 12 * mm, width - 15 * mm, 12 * mm)
        self.drawString(15 * mm, 8 * mm, self._running[:160])
        label = self.page_label.format(page=self._pages) + " "
        right = width - 15 * mm - 12
        self.drawString(right - self.stringWidth(label, FONT, 7), 8 * mm, label)
        self.translate(right, 8 * mm)
        self.doForm("page_count")
        self.restoreState()


class _LandscapeDocument(BaseDocTemplate):
    def __init__(self, out, *, title: str, subject: str):
        margins = {"leftMargin": 15 * mm, "rightMargin": 15 * mm, "topMargin": 15 * mm, "bottomMargin": 18 * mm}
        super().__init__(out, pagesize=landscape(A4), title=title, subject=subject, author="ropa", **margins)
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=lambda canv, doc: canv.footer())])


def write_pdf(breaches: Iterable[Breach], out: IO[bytes], language: str) -> int:
    """The register as a landscape A4 PDF: one table, its columns sized to their longest word, every cell
    wrapped within its column, the headings repeated on every page."""
    _headings, rows = register_table(breaches, language)
    register_fonts()
    document = _LandscapeDocument(out, title=say(WORDS["title"], language), subject=say(WORDS["subtitle"], language))
    flowables = layout(_pdf_html(rows, language), styles_for_pdf(), document.width)
    canvas = type("BreachCanvas", (_LandscapeCanvas,), {"page_label": say(L.WORDS["page"], language)})
    document.build(flowables, canvasmaker=canvas)
    return len(rows)
