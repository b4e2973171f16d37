"""The register as a printable PDF: per controller a cover, one section per activity, completeness.

The pages are HTML templates (templates/register/pdf/), rendered by Django and laid out with
ReportLab. The layout step reads the small set of elements those templates use (h1-h3, p, table with
thead/tr/th/td and colspan, br, b, i, span with a class, a page-break div) and turns them into
ReportLab flowables; it is not a general HTML engine. General HTML-to-PDF libraries are too slow for a
register of a thousand activities (xhtml2pdf, measured: about 50 ms per activity, a minute for 1,000)
or need system libraries pip cannot install (WeasyPrint: Pango); this takes about 8 ms per activity.

Sections are rendered and laid out one at a time (``pdf_layout.Feed``), and "page N of M" is a form filled in
when the document ends, so the layout makes one pass. What grows with the register is the PDF being
written: ReportLab keeps the finished pages (uncompressed) until it writes the file.
"""

from collections.abc import Iterator
from typing import IO

from django.template.loader import render_to_string

from ropa.kernel.dates import local_minute

from . import labels as L
from .columns import GROUPS, REGISTER_COLUMNS, as_text, controller_values, heading, register_rows
from .completeness import controller_gaps
from .evidence import EVIDENCE_COLUMNS, chain_summary, evidence_rows
from .labels import say
from .pdf_layout import Canvas, Document, Feed, layout, register_fonts, styles_for_pdf
from .snapshot import RegisterSnapshot


def _sections(snapshot: RegisterSnapshot, *, language: str, styles, width, counter: dict) -> Iterator:
    """The document, section by section: rendered from the templates, laid out, handed on."""
    context = {
        "title": say(L.WORDS["title"], language),
        "subtitle": say(L.WORDS["subtitle"], language),
        "generated_label": say(L.WORDS["generated_at"], language),
        "generated_at": local_minute(snapshot.generated_at),
        "as_of_label": say(L.WORDS["as_of"], language),
        "as_of": snapshot.as_of.isoformat() if snapshot.as_of else "",
        "as_of_today": say(L.WORDS["as_of_today"], language),
        "legend": say(L.WORDS["legend"], language),
    }
    running = say(L.WORDS["title"], language) + (
        f" · {say(L.WORDS['as_of'], language)} {snapshot.as_of.isoformat()}" if snapshot.as_of else ""
    )
    evidence = {
        "evidence_headings": [say(c.heading, language) for c in EVIDENCE_COLUMNS] if snapshot.with_evidence else [],
        "evidence_widths": ",".join(str(column.width) for column in EVIDENCE_COLUMNS),
    }
    chain = chain_summary(snapshot.chain, language=language) if snapshot.with_evidence else ""

    # Activities are read in batches by the snapshot; the rows are grouped by controller here.
    rows = register_rows(snapshot, language=language)
    pending = next(rows, None)
    for index, controller in enumerate(snapshot.controllers):
        fields = [
            (say(field.heading, language), as_text(value), field.mandatory)
            for field, value in controller_values(controller, language=language)
        ]
        html = render_to_string(
            "register/pdf/cover.html",
            {**context, "controller": controller, "fields": fields, "first": index == 0, "running": running},
        )
        yield from layout(html, styles, width)
        summary_rows = []
        while pending is not None and pending.entry.controller.pk == controller.pk:
            row, pending = pending, next(rows, None)
            activity = row.entry.activity
            html = render_to_string("register/pdf/activity.html", _activity_context(row, evidence, language=language))
            yield from layout(html, styles, width)
            counter["activities"] += 1
            summary_rows.append(
                (
                    activity.reference,
                    activity.localized(language=language),
                    L.choice(L.STATUS, activity.status, language),
                    [gap.text(language) for gap in row.gaps],
                )
            )
        html = render_to_string(
            "register/pdf/completeness.html",
            {
                "title": say(L.SHEETS["completeness"], language),
                "controller": controller,
                "controller_label": say(GROUPS["controller"], language),
                "controller_gaps": [gap.text(language) for gap in controller_gaps(controller)],
                "summary": f"{say(L.WORDS['activity_count'], language)}: {len(summary_rows)}",
                "headings": {
                    "reference": heading("reference", language),
                    "name": heading("name", language),
                    "status": heading("status", language),
                    "missing": say(L.WORDS["missing_items"], language),
                },
                "rows": summary_rows,
                "complete": say(L.WORDS["complete"], language),
                "chain": chain,
                "chain_ok": snapshot.with_evidence and snapshot.chain.verifies,
            },
        )
        yield from layout(html, styles, width)


# An activity's page leaves out what its heading and its controller's cover already say.
_SHOWN = [i for i, column in enumerate(REGISTER_COLUMNS) if column.key not in ("controller", "reference", "name")]


def _activity_context(row, evidence: dict, *, language: str) -> dict:
    """An activity's page: its columns in their groups, its gaps, its evidence of erasure."""
    activity = row.entry.activity
    groups: list[tuple[str, list]] = []
    for i in _SHOWN:
        column, value = REGISTER_COLUMNS[i], row.values[i]
        lines = value if isinstance(value, list) else [as_text(value)] if as_text(value) else []
        if not groups or groups[-1][0] != say(GROUPS[column.group], language):
            groups.append((say(GROUPS[column.group], language), []))
        groups[-1][1].append((say(column.heading, language), lines, column.mandatory))
    ended = say(L.WORDS["ended_on"], language).format(date=activity.ended_on.isoformat()) if activity.ended_on else ""
    return {
        "reference": activity.reference,
        "name": activity.localized(language=language),
        "ended": ended,
        "groups": groups,
        "gaps": [gap.text(language) for gap in row.gaps],
        "missing_label": say(L.WORDS["missing_items"], language),
        "evidence_label": say(L.WORDS["evidence"], language),
        **evidence,
        "evidence": [[as_text(v) for v in run] for run in evidence_rows(row.entry, language=language)],
        "no_runs": say(L.WORDS["no_runs"], language),
    }


def write_pdf(snapshot: RegisterSnapshot, out: IO[bytes], *, language: str) -> int:
    """Write the PDF to ``out``; return the number of activities."""
    register_fonts()
    styles = styles_for_pdf()
    document = Document(out, title=say(L.WORDS["title"], language), subject=say(L.WORDS["subtitle"], language))
    counter = {"activities": 0}
    sections = _sections(snapshot, language=language, styles=styles, width=document.width, counter=counter)
    canvas_class = type("RegisterCanvas", (Canvas,), {"page_label": say(L.WORDS["page"], language)})
    document.build(Feed(sections), canvasmaker=canvas_class)
    return counter["activities"]
