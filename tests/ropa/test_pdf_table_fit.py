"""The PDF's tables never overprint: every line of every cell fits its column, in every language.

Each table the export lays out is caught on its way to the document and measured with ReportLab's own
metrics (``stringWidth`` for plain cells, the wrapped lines of a paragraph cell): a heading longer than
its column's share (Dutch "Geanonimiseerd", "Wissingsbewijzen") used to run into the next cell.
"""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph, Table

from retention.services import legal_hold_place, record_register, retention_enforce
from ropa.register import export_register
from ropa.register import pdf as register_pdf
from ropa.register.evidence import EVIDENCE_COLUMNS
from ropa.register.pdf_layout import (
    FONT,
    fit_widths,
    layout,
    register_fonts,
    styles_for_pdf,
    wrap_text,
)
from tests.factories import DataCategoryFactory, DataSubjectFactory, ProcessingActivityFactory, RetentionRuleFactory

LANGUAGES = ("en", "nl", "fr")
SLACK = 0.01  # points: rounding


def overflows(table: Table) -> list[str]:
    """Every line of a cell of ``table`` wider than the room inside its column (or its span)."""
    table._calcSpanRanges()
    found = []
    for r, row in enumerate(table._cellvalues):
        for c, value in enumerate(row):
            span = table._spanRanges.get((c, r), (c, r, c, r))
            if span is None:  # covered by a span
                continue
            style = table._cellStyles[r][c]
            room = sum(table._colWidths[span[0] : span[2] + 1]) - style.leftPadding - style.rightPadding
            flowables = value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(f, Paragraph) for f in flowables):
                found.extend(f"row {r} col {c}: {p}" for f in flowables for p in _paragraph_overflows(f, room))
                continue
            for line in str(value).split("\n"):
                width = stringWidth(line, style.fontname, style.fontsize)
                if width > room + SLACK:
                    found.append(f"row {r} col {c}: {line!r} is {width:.1f}pt in {room:.1f}pt")
    return found


def _paragraph_overflows(paragraph: Paragraph, room: float) -> list[str]:
    """ReportLab breaks a word too long for the line (``splitLongWords``); a line wider than the room is
    one whose space left over (``extraSpace``) is negative."""
    paragraph.wrap(room, 1e6)
    extra = [line[0] if isinstance(line, tuple) else line.extraSpace for line in paragraph.blPara.lines]
    return [f"a line is {-space:.1f}pt wider than {room:.1f}pt" for space in extra if space < -SLACK]


@pytest.fixture
def caught_tables(monkeypatch):
    tables = []

    def catching(html, styles, width):
        flowables = layout(html, styles, width)
        tables.extend(f for f in flowables if isinstance(f, Table))
        return flowables

    monkeypatch.setattr(register_pdf, "layout", catching)
    return tables


@pytest.fixture
def swept(dpo, dpo_mail):
    """An activity whose records a real sweep erased, one kept under a legal hold: evidence to show."""
    category = DataCategoryFactory(code="identity")
    activity = ProcessingActivityFactory(reference="A-01", name_en="Deleting activity")
    RetentionRuleFactory(
        activity=activity, duration_value=1, duration_unit="years", trigger="collection", action="delete", grace_days=0
    )
    records = [
        record_register(
            subject=DataSubjectFactory(controller=activity.controller),
            activity=activity,
            data_category=category,
            source_system="crm",
            external_id=f"CRM-{n}",
            payload={"name": f"Person {n}"},
            dates={"collected_on": dt.date(2020, 1, 1)},
        )
        for n in range(3)
    ]
    legal_hold_place(reason="litigation", actor=dpo, record=records[2])
    retention_enforce(now=timezone.now())
    return activity.controller


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_cell_of_the_register_pdf_runs_out_of_its_column(swept, caught_tables, language):
    export_register(fmt="pdf", controller=swept, lang=language)
    headings = [column.heading[language] for column in EVIDENCE_COLUMNS]
    evidence = [t for t in caught_tables if [" ".join(str(v).split()) for v in t._cellvalues[0]] == headings]
    assert evidence, "the evidence table was laid out"
    assert len(caught_tables) >= 4  # cover, activity, evidence, completeness
    problems = {i: overflows(table) for i, table in enumerate(caught_tables)}
    assert not {i: p for i, p in problems.items() if p}
    # The widened columns still make the page's width, and no heading word was broken to fit.
    for table in evidence:
        assert sum(table._colWidths) == pytest.approx(sum(evidence[0]._colWidths))
        for heading, cell in zip(headings, table._cellvalues[0], strict=True):
            assert cell.split() == heading.split()
        # What fitted its column's share on one line still does: a run's date and time.
        assert all("\n" not in row[0] for row in table._cellvalues[1:])


@pytest.mark.django_db
def test_no_cell_of_the_shipped_statements_pdf_runs_out_of_its_column(settings, dpo, caught_tables):
    """The five statements with the demo's records and sweep: every table of the whole register, in
    every language (the completeness tables' red lists, the long field names of the covers)."""
    settings.DEBUG = True
    call_command("load_statements", verbosity=0)
    call_command("load_demo", verbosity=0)
    for language in LANGUAGES:
        caught_tables.clear()
        export_register(fmt="pdf", lang=language)
        assert len(caught_tables) > 100
        problems = {i: overflows(table) for i, table in enumerate(caught_tables)}
        assert not {i: p for i, p in problems.items() if p}, language


def _laid_out_table(html: str, width: float = 500) -> Table:
    register_fonts()
    [table] = [f for f in layout(html, styles_for_pdf(), width) if isinstance(f, Table)]
    return table


def test_a_heading_wider_than_its_share_widens_its_column():
    word = "Wissingsbewijzenregisteroverzicht"
    table = _laid_out_table(
        f'<table class="grid" data-widths="10,45,45"><thead><tr><th>{word}</th><th>b</th><th>c</th></tr></thead>'
        "<tr><td>1</td><td>2</td><td>3</td></tr></table>"
    )
    assert table._colWidths[0] > 50 and sum(table._colWidths) == pytest.approx(500)
    assert table._cellvalues[0][0] == word
    assert not overflows(table)


def test_words_too_long_for_any_column_are_broken_not_overprinted():
    long = "x" * 400
    table = _laid_out_table(
        f'<table class="grid" data-widths="50,50"><tr><td>{long}</td><td>{long} <b>{long}</b></td></tr></table>'
    )
    assert sum(table._colWidths) == pytest.approx(500)
    assert "".join(table._cellvalues[0][0].split("\n")) == long
    assert not overflows(table)


def test_fit_widths_keeps_the_total_and_the_longest_words():
    assert fit_widths([10, 45, 45], [30, 5, 5]) == pytest.approx([30, 35, 35])
    assert fit_widths([50, 50], [10, 10]) == [50, 50]
    widths = fit_widths([20, 20, 60], [30, 30, 50])
    assert sum(widths) == pytest.approx(100) and widths[2] == pytest.approx(50)


def test_wrap_text_never_returns_a_line_wider_than_asked():
    register_fonts()
    text = "Behouden wegens juridische blokkering Geanonimiseerd https://example.org/" + "a" * 80
    for width in (20, 35, 60, 120):
        lines = wrap_text(text, FONT, 8, width)
        assert all(stringWidth(line, FONT, 8) <= width for line in lines)
        assert "".join("".join(lines).split()) == "".join(text.split())
