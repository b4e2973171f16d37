"""The register as an XLSX workbook in the layout of the Belgian DPA's register model.

Sheets: the controller's identification, the register (one row per activity under the model's
column groups, the headings Article 30 requires in red), completeness, retention evidence, and the
lists of allowed values. Written with XlsxWriter in ``constant_memory`` mode: each row goes to disk
as soon as the next one starts, so memory does not grow with the register.
"""

import datetime as dt
import math
from typing import IO

import xlsxwriter

from ropa.kernel.dates import local_minute

from . import labels as L
from .columns import (
    COLUMN,
    CONTROLLER_FIELDS,
    GROUPS,
    REGISTER_COLUMNS,
    as_text,
    controller_values,
    heading,
    register_rows,
)
from .completeness import GAP_LABELS, controller_gaps
from .evidence import EVIDENCE_COLUMNS, chain_summary, evidence_rows
from .labels import say
from .snapshot import RegisterSnapshot

RED = "#C00000"
NAVY = "#1F3864"
GREY = "#D9D9D9"
BORDER = "#BFBFBF"
MAX_CELL = 32_000  # Excel holds 32,767 characters in a cell
LINE_HEIGHT = 13.5  # points, for 10 pt text
MAX_LINES = 15  # a longer cell scrolls in the formula bar rather than making a row a page high


class _Formats:
    def __init__(self, workbook):
        base = {"font_size": 10, "valign": "top", "border": 1, "border_color": BORDER}
        self.title = workbook.add_format({"bold": True, "font_size": 14, "font_color": NAVY})
        self.note = workbook.add_format({"italic": True, "font_size": 9, "font_color": "#595959"})
        self.legend = workbook.add_format({"italic": True, "font_size": 9, "font_color": RED})
        self.group = workbook.add_format(
            {**base, "bold": True, "font_color": "#FFFFFF", "bg_color": NAVY, "align": "center_across"}
        )
        self.heading = workbook.add_format({**base, "bold": True, "text_wrap": True, "bg_color": GREY})
        self.mandatory = workbook.add_format(
            {**base, "bold": True, "text_wrap": True, "bg_color": RED, "font_color": "#FFFFFF"}
        )
        self.cell = workbook.add_format({**base, "text_wrap": True})
        self.date = workbook.add_format({**base, "num_format": "yyyy-mm-dd", "align": "left"})
        self.number = workbook.add_format({**base, "align": "right"})
        self.ok = workbook.add_format({**base, "text_wrap": True, "font_color": "#375623", "bg_color": "#E2EFDA"})
        self.gap = workbook.add_format({**base, "text_wrap": True, "font_color": "#9C0006", "bg_color": "#FFC7CE"})


def _lines(text: str, width: float) -> int:
    """How many lines ``text`` takes in a wrapped cell ``width`` characters wide (an estimate)."""
    per_line = max(1, int(width * 1.15))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


class _Sheet:
    """A worksheet written top to bottom, that sizes each row to its wrapped text."""

    def __init__(self, workbook, name: str, formats: _Formats, widths: list[float], sizing: list[bool] | None = None):
        self.ws = workbook.add_worksheet(name[:31])
        self.formats = formats
        self.widths = widths
        self.sizing = sizing or [True] * len(widths)
        self.row = 0
        for col, width in enumerate(widths):
            self.ws.set_column(col, col, width)

    def write(self, values: list, fmt=None, formats: list | None = None, height: float | None = None) -> int:
        fmt = fmt or self.formats.cell
        lines = 1
        for col, value in enumerate(values):
            cell_format = formats[col] if formats else fmt
            if isinstance(value, dt.date):
                self.ws.write_datetime(self.row, col, value, self.formats.date)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                self.ws.write_number(self.row, col, value, self.formats.number)
            else:
                text = as_text(value)[:MAX_CELL]
                if text:
                    self.ws.write_string(self.row, col, text, cell_format)
                    if col < len(self.widths) and self.sizing[col]:
                        lines = max(lines, _lines(text, self.widths[col]))
                else:
                    self.ws.write_blank(self.row, col, None, cell_format)
        self.ws.set_row(self.row, height or min(lines, MAX_LINES) * LINE_HEIGHT + 3)
        self.row += 1
        return self.row - 1

    def table_header(self, headings: list[str], mandatory: list[bool] | None = None) -> None:
        formats = [
            self.formats.mandatory if m else self.formats.heading for m in (mandatory or [False] * len(headings))
        ]
        self.write(headings, formats=formats)
        self.header_row = self.row - 1

    def finish_table(self, *, autofilter: bool = True) -> None:
        self.ws.freeze_panes(self.header_row + 1, 0)
        if autofilter:
            self.ws.autofilter(self.header_row, 0, max(self.row - 1, self.header_row), len(self.widths) - 1)
        self.ws.repeat_rows(0, self.header_row)
        self.ws.set_landscape()
        self.ws.set_paper(9)  # A4
        self.ws.fit_to_pages(1, 0)


def write_xlsx(snapshot: RegisterSnapshot, out: IO[bytes], *, language: str) -> int:
    """Write the workbook to ``out``; return the number of activities.

    The sheets in the Belgian DPA model's order: the controller(s), the register, then (filled row by row
    beside the register, in one pass over the activities) completeness and the retention evidence, and the
    lists of allowed values."""
    workbook = _workbook(snapshot, out, language=language)
    f = _Formats(workbook)
    _controller_sheet(workbook, f, snapshot, language=language)
    register = _register_sheet(workbook, f, language=language)
    completeness = _completeness_sheet(workbook, f, language=language)
    for controller in snapshot.controllers:
        head = [controller.name, "", say(L.WORDS["controller_entry"], language), ""]
        _gap_cells(completeness, f, head, controller_gaps(controller), language=language)
    evidence = _evidence_sheet(workbook, f, snapshot, language=language) if snapshot.with_evidence else None
    count = 0
    for row in register_rows(snapshot, language=language):
        count += 1
        register.write(list(row.values))
        head = [
            row.entry.controller.name,
            row.entry.activity.reference,
            row.entry.activity.localized(language=language),
        ]
        _completeness_row(completeness, f, row, head, language=language)
        if evidence is not None:
            _evidence_rows(evidence, row, head, language=language)
    for sheet in (register, completeness, evidence):
        if sheet is not None:
            sheet.finish_table()
    _lists_sheet(workbook, f, snapshot, language=language)
    workbook.close()
    return count


def _workbook(snapshot: RegisterSnapshot, out: IO[bytes], *, language: str) -> xlsxwriter.Workbook:
    # Streamed (constant memory), and every cell a string as written: no formula, number or link guessed.
    workbook = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    workbook.set_properties(
        {
            "title": say(L.WORDS["title"], language),
            "subject": say(L.WORDS["subtitle"], language),
            "comments": f"ropa export, {snapshot.generated_at.isoformat(timespec='seconds')}",
        }
    )
    return workbook


def _controller_sheet(workbook, f: _Formats, snapshot: RegisterSnapshot, *, language: str) -> None:
    """The controller(s): one column each, the fields down the side, as the model's first sheet."""
    ident = _Sheet(workbook, say(L.SHEETS["controller"], language), f, [34] + [44] * len(snapshot.controllers))
    ident.write([say(L.WORDS["title"], language)], fmt=f.title, height=22)
    ident.write([say(L.WORDS["subtitle"], language)], fmt=f.note, height=14)
    stamp = f"{say(L.WORDS['generated_at'], language)} {local_minute(snapshot.generated_at)}"
    if snapshot.as_of:
        stamp += f" · {say(L.WORDS['as_of'], language)} {snapshot.as_of.isoformat()}"
    ident.write([stamp], fmt=f.note, height=14)
    ident.write([say(L.WORDS["legend"], language)], fmt=f.legend, height=14)
    ident.row += 1
    per_controller = [controller_values(c, language=language) for c in snapshot.controllers]
    for index, field in enumerate(CONTROLLER_FIELDS):
        label_format = f.mandatory if field.mandatory else f.heading
        values = [say(field.heading, language)] + [fields[index][1] for fields in per_controller]
        ident.write(values, formats=[label_format] + [f.cell] * len(per_controller))
    ident.ws.set_paper(9)
    ident.ws.fit_to_pages(1, 0)


def _column_groups() -> list[tuple[str, int, int]]:
    """The register's column groups as (group, first column, last column), in order."""
    groups: list[tuple[str, int, int]] = []
    for col, column in enumerate(REGISTER_COLUMNS):
        if groups and groups[-1][0] == column.group:
            groups[-1] = (column.group, groups[-1][1], col)
        else:
            groups.append((column.group, col, col))
    return groups


def _register_sheet(workbook, f: _Formats, *, language: str) -> _Sheet:
    """The register: a row of column groups above the headings, each heading with its article."""
    widths = [column.width for column in REGISTER_COLUMNS]
    register = _Sheet(
        workbook, say(L.SHEETS["register"], language), f, widths, [column.sizes_row for column in REGISTER_COLUMNS]
    )
    for group, first, last in _column_groups():
        register.ws.write_string(0, first, say(GROUPS[group], language), f.group)
        for blank in range(first + 1, last + 1):
            register.ws.write_blank(0, blank, None, f.group)
    register.ws.set_row(0, 18)
    register.row = 1
    register.table_header(
        [say(column.heading, language) for column in REGISTER_COLUMNS], [c.mandatory for c in REGISTER_COLUMNS]
    )
    for index, column in enumerate(REGISTER_COLUMNS):
        if column.article:
            required = " (required)" if column.mandatory else ""
            register.ws.write_comment(1, index, f"Art. {column.article} GDPR{required}", {"x_scale": 1.2})
    return register


def _completeness_sheet(workbook, f: _Formats, *, language: str) -> _Sheet:
    completeness = _Sheet(workbook, say(L.SHEETS["completeness"], language), f, [30, 10, 34, 11, 60, 16])
    completeness.table_header(
        [
            heading("controller", language),
            heading("reference", language),
            heading("name", language),
            heading("status", language),
            say(L.WORDS["missing_items"], language),
            say({"en": "GDPR", "nl": "AVG", "fr": "RGPD"}, language),
        ]
    )
    return completeness


def _completeness_row(completeness: _Sheet, f: _Formats, row, head: list[str], *, language: str) -> None:
    status = L.choice(L.STATUS, row.entry.activity.status, language)
    _gap_cells(completeness, f, [*head, status], row.gaps, language=language)


def _gap_cells(completeness: _Sheet, f: _Formats, head: list[str], gaps, *, language: str) -> None:
    """One completeness row: what identifies the entry, then what it lacks and the articles, or "complete"."""
    if gaps:
        missing = [gap.text(language) for gap in gaps]
        articles = sorted({f"Art. {gap.article}" for gap in gaps})
        completeness.write([*head, missing, ", ".join(articles)], formats=[f.cell] * 4 + [f.gap, f.cell])
    else:
        completeness.write([*head, say(L.WORDS["complete"], language), ""], formats=[f.cell] * 4 + [f.ok, f.cell])


def _evidence_sheet(workbook, f: _Formats, snapshot: RegisterSnapshot, *, language: str) -> _Sheet:
    evidence = _Sheet(
        workbook,
        say(L.SHEETS["evidence"], language),
        f,
        [30, 10, 30] + [column.width for column in EVIDENCE_COLUMNS],
    )
    summary = chain_summary(snapshot.chain, language=language)
    evidence.write([summary], fmt=f.note, height=14)
    evidence.table_header(
        [heading("controller", language), heading("reference", language), heading("name", language)]
        + [say(column.heading, language) for column in EVIDENCE_COLUMNS]
    )
    return evidence


def _evidence_rows(evidence: _Sheet, row, head: list[str], *, language: str) -> None:
    runs = evidence_rows(row.entry, language=language)
    for values in runs:
        evidence.write([*head, *values])
    if not runs:
        evidence.write([*head, say(L.WORDS["no_runs"], language)] + [""] * (len(EVIDENCE_COLUMNS) - 1))


def _choices(labels: dict, language: str) -> list[str]:
    return [say(v, language) for v in labels.values()]


def _value_lists(snapshot: RegisterSnapshot, *, language: str) -> list[tuple[object, list[str]]]:
    """The lists of allowed values: the GDPR's codes and the register's own vocabularies (as of the date)."""
    vocabularies = snapshot.vocabularies()
    data_categories = [
        c.localized(language=language)
        + (f" ({say(L.WORDS['art9'], language)})" if c.special_category else "")
        + (f" ({say(L.WORDS['art10'], language)})" if c.criminal else "")
        for c in vocabularies.data_categories
    ]
    measures = [
        f"{m.localized(language=language)} ({L.choice(L.MEASURE_KIND, m.kind, language)})"
        for m in vocabularies.security_measures
    ]
    return [
        (COLUMN["legal_basis"].heading, _choices(L.LEGAL_BASIS, language)),
        (L.WORDS["art9_condition"], _choices(L.ART9_CONDITION, language)),
        (COLUMN["processing_type"].heading, _choices(L.PROCESSING_TYPE, language)),
        (COLUMN["gdpr_data_categories"].heading, data_categories),
        (
            COLUMN["data_subjects"].heading,
            [c.localized(language=language) for c in vocabularies.data_subject_categories],
        ),
        (
            {"en": "Kinds of recipients", "nl": "Soorten ontvangers", "fr": "Types de destinataires"},
            _choices(L.RECIPIENT_KIND, language),
        ),
        (COLUMN["safeguards"].heading, _choices(L.SAFEGUARD, language)),
        (
            {"en": "Retention starts at", "nl": "Termijn loopt vanaf", "fr": "Le délai court à partir de"},
            _choices(L.TRIGGER, language),
        ),
        (
            {"en": "At the end of retention", "nl": "Na afloop van de termijn", "fr": "À l'échéance"},
            _choices(L.ACTION, language),
        ),
        (COLUMN["security_measures"].heading, measures),
        (COLUMN["status"].heading, _choices(L.STATUS, language)),
        (
            {"en": "Missing items", "nl": "Ontbrekende gegevens", "fr": "Éléments manquants"},
            _choices(GAP_LABELS, language),
        ),
    ]


def _lists_sheet(workbook, f: _Formats, snapshot: RegisterSnapshot, *, language: str) -> None:
    lists = _value_lists(snapshot, language=language)
    sheet = _Sheet(workbook, say(L.SHEETS["lists"], language), f, [30] * len(lists))
    sheet.table_header([say(title, language) for title, _values in lists])
    for index in range(max(len(values) for _heading, values in lists)):
        sheet.write([values[index] if index < len(values) else "" for _heading, values in lists])
    sheet.finish_table(autofilter=False)
