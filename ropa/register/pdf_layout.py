"""The PDF's layout: the HTML of the register's templates turned into ReportLab flowables, the fonts and
styles, the document with its running header and "page N of M" (see ``pdf`` for why not a general HTML engine)."""

import re
from collections.abc import Iterator
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

RED = colors.HexColor("#C00000")
NAVY = colors.HexColor("#1F3864")
GREY = colors.HexColor("#D9D9D9")
LINE = colors.HexColor("#BFBFBF")
MUTED = colors.HexColor("#595959")
SECTION_MIN_SPACE = 70 * mm
TABLE_CHUNK = 40  # long tables are laid out in pieces: ReportLab re-measures the rest at every page split

# Bitstream Vera ships inside ReportLab: embedded, it renders and extracts every Dutch and French
# character the same on every machine.
_FONT_DIR = Path(reportlab.__file__).parent / "fonts"
FONT, BOLD, ITALIC, BOLD_ITALIC = "Vera", "VeraBd", "VeraIt", "VeraBI"


def register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for name in (FONT, BOLD, ITALIC, BOLD_ITALIC):
        pdfmetrics.registerFont(TTFont(name, str(_FONT_DIR / f"{name}.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC)


def styles_for_pdf() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=8.5, leading=10.5, spaceAfter=4)
    # No shrinking of spaces (ReportLab's default lets a line take 5% of its spaces more than the room,
    # drawn as is when left-aligned): a table cell's line keeps inside its column.
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=9.8, spaceAfter=0, spaceShrinkage=0)
    return {
        "p": body,
        "p.subtitle": ParagraphStyle("subtitle", parent=body, fontSize=10, leading=13, textColor=MUTED),
        "p.stamp": ParagraphStyle("stamp", parent=body, fontSize=9.5, leading=13, spaceBefore=4, spaceAfter=10),
        "p.legend": ParagraphStyle("legend", parent=body, fontName=ITALIC, textColor=RED, spaceBefore=6),
        "p.muted": ParagraphStyle("muted", parent=body, textColor=MUTED, spaceBefore=4),
        "p.ended": ParagraphStyle("ended", parent=body, fontName=BOLD, textColor=RED),
        "p.gaps": ParagraphStyle(
            "gaps",
            parent=body,
            textColor=RED,
            backColor=colors.HexColor("#FFF2F2"),
            borderColor=RED,
            borderWidth=0.5,
            borderPadding=4,
            spaceBefore=6,
            spaceAfter=8,
        ),
        "h1": ParagraphStyle("h1", parent=body, fontName=BOLD, fontSize=20, leading=25, textColor=NAVY, spaceAfter=6),
        "h2": ParagraphStyle(
            "h2", parent=body, fontName=BOLD, fontSize=12, leading=15, textColor=NAVY, spaceBefore=10, spaceAfter=5
        ),
        "h2.controller": ParagraphStyle(
            "controller", parent=body, fontName=BOLD, fontSize=15, leading=19, spaceBefore=24, spaceAfter=4
        ),
        "h3": ParagraphStyle(
            "h3", parent=body, fontName=BOLD, fontSize=9.5, leading=12, textColor=NAVY, spaceBefore=6, keepWithNext=True
        ),
        "td": cell,
        "th": ParagraphStyle("th", parent=cell, fontName=BOLD),
        "th.mandatory": ParagraphStyle("mandatory", parent=cell, fontName=BOLD, textColor=RED),
        "td.group": ParagraphStyle("group", parent=cell, fontName=BOLD, textColor=colors.white),
    }


_INLINE_COLOURS = {"red": "#C00000", "muted": "#595959", "green": "#375623"}


class _Marker(Flowable):
    """Takes no room; tells the page footer which controller the page belongs to."""

    def __init__(self, running: str):
        super().__init__()
        self.running = running

    def wrap(self, available_width, available_height):
        return 0, 0

    def draw(self):
        self.canv._running = self.running


class _Cell:
    """A table cell as read from the HTML: plain text (``markup`` None) or inline markup for a Paragraph."""

    __slots__ = ("_paragraph", "markup", "span", "style", "text")

    def __init__(self, style: ParagraphStyle, span: int, markup: str | None, text: str):
        self.style, self.span, self.markup, self.text = style, span, markup, text
        self._paragraph = None

    def paragraph(self) -> Paragraph:
        if self._paragraph is None:
            self._paragraph = Paragraph(self.markup, self.style)
        return self._paragraph

    def min_width(self, room: float) -> float:
        """The narrowest the cell's column may be made: as wide as its longest word, so that none is broken,
        and as wide as its lines when they fit the column's share ``room`` unwrapped, so that widening
        another column never wraps a line that fitted (a run's date and time)."""
        if self.markup is not None:
            return self.paragraph().minWidth()
        font, size = self.style.fontName, self.style.fontSize
        lines = max((pdfmetrics.stringWidth(line.strip(), font, size) for line in self.text.split("\n")), default=0.0)
        if lines <= room:
            return lines
        return max((pdfmetrics.stringWidth(word, font, size) for word in self.text.split()), default=0.0)


def fit_widths(widths: list[float], minimums: list[float]) -> list[float]:
    """Column widths that keep the table's total: a column narrower than its longest word is widened, with
    the room taken from the others in proportion to what they have beyond their own longest word. When
    there is not room for every longest word, the columns short of it share what the others can give."""
    needs = [max(minimum - width, 0.0) for width, minimum in zip(widths, minimums, strict=True)]
    spare = [max(width - minimum, 0.0) for width, minimum in zip(widths, minimums, strict=True)]
    need, room = sum(needs), sum(spare)
    if not need:
        return list(widths)
    if need <= room:
        return [width + n - s * need / room for width, n, s in zip(widths, needs, spare, strict=True)]
    return [width + n * room / need - s for width, n, s in zip(widths, needs, spare, strict=True)]


def wrap_text(text: str, font: str, size: float, width: float) -> list[str]:
    """The text's lines wrapped within ``width``: at spaces, and a word longer than the width (a long
    address, a compound noun in a narrow column) broken between characters, so that no line is wider."""
    lines: list[str] = []
    for line in text.split("\n"):
        wrapped = simpleSplit(line, font, size, width)
        # simpleSplit leaves a word wider than the width alone on its line: only such a line is measured again.
        if any(" " not in part and pdfmetrics.stringWidth(part, font, size) > width for part in wrapped):
            words = [piece for word in line.split() for piece in _break_word(word, font, size, width)]
            wrapped = simpleSplit(" ".join(words), font, size, width)
        lines.extend(wrapped or [""])
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _break_word(word: str, font: str, size: float, width: float) -> list[str]:
    if pdfmetrics.stringWidth(word, font, size) <= width:
        return [word]
    pieces, piece = [], ""
    for character in word:
        if piece and pdfmetrics.stringWidth(piece + character, font, size) > width:
            pieces.append(piece)
            piece = ""
        piece += character
    return [*pieces, piece]


class _Layout(HTMLParser):
    """Turns the register templates' HTML into flowables (see the module docstring for the subset).

    A table cell without inline formatting becomes plain text wrapped with ``wrap_text``: ReportLab
    draws such cells without the paragraph machinery, which makes a register's many short cells cheap.
    A table's columns are sized (``fit_widths``) once all its cells are read, so that a heading longer
    than its column's share (a Dutch or French compound noun) widens it rather than overprinting the next.
    """

    BLOCKS = {"h1", "h2", "h3", "p"}
    CELL_PADDING = 3

    def __init__(self, styles: dict[str, ParagraphStyle], width: float):
        super().__init__(convert_charrefs=True)
        self.styles, self.width = styles, width
        self.flowables: list = []
        self.inline: list[str] | None = None
        self.text: list[str] = []
        self.rich = False
        self.closers: list[str] = []
        self.block: tuple[str, dict] | None = None
        self.table: dict | None = None

    def _style(self, tag: str, attrs: dict) -> ParagraphStyle:
        for cls in (attrs.get("class") or "").split():
            if f"{tag}.{cls}" in self.styles:
                return self.styles[f"{tag}.{cls}"]
        return self.styles[tag]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.BLOCKS or tag in ("th", "td"):
            self.block, self.inline, self.text, self.rich, self.closers = (tag, attrs), [], [], False, []
        elif tag in ("br", "b", "strong", "i", "em", "span"):
            if self.inline is not None:
                self._start_inline(tag, attrs)
        elif tag == "table":
            self._start_table(attrs)
        elif tag in ("thead", "tr"):
            if self.table is not None:
                self._start_row(tag, attrs)
        elif tag == "div":
            self._start_div(attrs)

    def _start_inline(self, tag: str, attrs: dict) -> None:
        """Markup inside a block: a line break, bold or italic, a coloured span."""
        if tag == "br":
            self.inline.append("<br/>")
            self.text.append("\n")
        elif tag == "span":
            colour = _INLINE_COLOURS.get(attrs.get("class") or "")
            self.inline.append(f'<font color="{colour}">' if colour else "")
            self.closers.append("</font>" if colour else "")
            self.rich = self.rich or bool(colour)
        else:
            markup = "b" if tag in ("b", "strong") else "i"
            self.inline.append(f"<{markup}>")
            self.rich = True

    def _start_table(self, attrs: dict) -> None:
        widths = [float(w) for w in (attrs.get("data-widths") or "100").split(",")]
        total = sum(widths)
        self.table = {
            "class": attrs.get("class", ""),
            "widths": [self.width * w / total for w in widths],
            "rows": [],
            "row_classes": [],
            "head": 0,
            "spans": [],
            "commands": [],
        }

    def _start_row(self, tag: str, attrs: dict) -> None:
        if tag == "thead":
            self.table["in_head"] = True
            return
        self.table["rows"].append([])
        self.table["row_classes"].append(attrs.get("class") or "")
        if self.table.get("in_head"):
            self.table["head"] += 1

    def _start_div(self, attrs: dict) -> None:
        classes = (attrs.get("class") or "").split()
        if "page-break" in classes:
            self.flowables.append(PageBreak())
        if "keep-space" in classes:
            # A section starts on a new page rather than with its heading alone at the bottom.
            self.flowables.append(CondPageBreak(SECTION_MIN_SPACE))
        if attrs.get("data-running"):
            self.flowables.append(_Marker(attrs["data-running"]))

    def handle_endtag(self, tag):
        if tag in ("b", "strong", "i", "em") and self.inline is not None:
            self.inline.append("</b>" if tag in ("b", "strong") else "</i>")
        elif tag == "span" and self.inline is not None and self.closers:
            self.inline.append(self.closers.pop())
        elif self.block and tag == self.block[0]:
            self._end_block()
        elif tag == "thead" and self.table is not None:
            self.table["in_head"] = False
        elif tag == "table" and self.table is not None:
            self.flowables.extend(self._tables(self.table))
            self.table = None

    def handle_data(self, data):
        if self.inline is not None:
            data = re.sub(r"\s+", " ", data)
            self.inline.append(escape(data, quote=False))
            self.text.append(data)

    def _end_block(self):
        tag, attrs = self.block
        markup = "".join(self.inline).strip()
        if markup.endswith("<br/>"):
            markup = markup[: -len("<br/>")]
        self.block, self.inline = None, None
        if tag in ("th", "td"):
            self._end_cell(tag, attrs, markup)
            return
        paragraph = Paragraph(markup, self._style(tag, attrs))
        if attrs.get("data-outline"):
            paragraph._outline = (int(attrs["data-outline"]), attrs.get("data-outline-title") or markup)
        self.flowables.append(paragraph)

    def _end_cell(self, tag: str, attrs: dict, markup: str) -> None:
        """Keep the cell as read: it is wrapped once the whole table is known and its columns are sized."""
        table = self.table
        row, row_index = table["rows"][-1], len(table["rows"]) - 1
        column, span = len(row), int(attrs.get("colspan") or 1)
        style = self.styles["td.group"] if table["row_classes"][-1] == "group" else self._style(tag, attrs)
        row.append(_Cell(style, span, markup if self.rich else None, "".join(self.text)))
        if span > 1:
            table["spans"].append((row_index, column, column + span - 1))
            row.extend(None for _ in range(span - 1))

    def _fill(self, table: dict) -> None:
        """Size the columns to what they hold, then wrap every cell within its column."""
        padding = 2 * self.CELL_PADDING
        minimums = [0.0] * len(table["widths"])
        for row in table["rows"]:
            for column, cell in enumerate(row):
                if cell is not None and cell.span == 1 and column < len(minimums):
                    room = table["widths"][column] - padding
                    minimums[column] = max(minimums[column], cell.min_width(room) + padding)
        widths = table["widths"] = fit_widths(table["widths"], minimums)
        for row_index, row in enumerate(table["rows"]):
            for column, cell in enumerate(row):
                if cell is None:
                    row[column] = ""
                    continue
                if cell.markup is not None:
                    row[column] = cell.paragraph()
                    continue
                width = sum(widths[column : column + cell.span]) - padding
                row[column] = "\n".join(wrap_text(cell.text, cell.style.fontName, cell.style.fontSize, width))
                position = (column, row_index)
                if cell.style.fontName != FONT:
                    table["commands"].append(("FONTNAME", position, position, cell.style.fontName))
                if cell.style.textColor != colors.black:
                    table["commands"].append(("TEXTCOLOR", position, position, cell.style.textColor))

    def _tables(self, table: dict) -> Iterator[Table]:
        self._fill(table)
        head, rows = table["head"], table["rows"]
        body = list(range(head, len(rows)))
        cell = self.styles["td"]
        for start in range(0, max(len(body), 1), TABLE_CHUNK):
            indexes = list(range(head)) + body[start : start + TABLE_CHUNK]
            data = [rows[i] for i in indexes]
            position = {old: new for new, old in enumerate(indexes)}
            commands = [
                ("FONT", (0, 0), (-1, -1), FONT, cell.fontSize, cell.leading),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.25, LINE),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ("LEFTPADDING", (0, 0), (-1, -1), self.CELL_PADDING),
                ("RIGHTPADDING", (0, 0), (-1, -1), self.CELL_PADDING),
            ]
            if head:
                commands.append(("BACKGROUND", (0, 0), (-1, head - 1), GREY))
            if "fields" in table["class"]:
                commands.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F2F2F2")))
            for index in indexes:
                if table["row_classes"][index] == "group":
                    row = position[index]
                    commands.append(("BACKGROUND", (0, row), (-1, row), NAVY))
                    commands.append(("NOSPLIT", (0, row), (-1, min(row + 1, len(data) - 1))))
            for row, first, last in table["spans"]:
                if row in position:
                    commands.append(("SPAN", (first, position[row]), (last, position[row])))
            for name, (column, row), _end, *values in table["commands"]:
                if row in position:
                    commands.append((name, (column, position[row]), (column, position[row]), *values))
            yield Table(
                data,
                colWidths=table["widths"],
                repeatRows=head,
                style=TableStyle(commands),
                hAlign="LEFT",
                splitInRow=1,
            )


class Feed(list):
    """A flowable list that fills itself from a generator as ReportLab consumes it.

    ReportLab's build loop asks ``len()`` before each step and looks only a few flowables ahead (to
    keep a heading with what follows), so holding a short window is enough: the sections not yet laid
    out are not rendered yet, and those laid out are gone.
    """

    WINDOW = 64

    def __init__(self, source: Iterator):
        super().__init__()
        self.source = source

    def __len__(self):
        while super().__len__() < self.WINDOW:
            try:
                self.append(next(self.source))
            except StopIteration:
                break
        return super().__len__()


class Canvas(pdfcanvas.Canvas):
    """Draws "page N of" on every page and fills in M once, as a form, when the document is saved."""

    page_label = "Page {page} of"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._running = ""
        self._pages = 0

    def footer(self) -> None:
        self._pages += 1
        width, _height = A4
        self.saveState()
        self.setFont(FONT, 7)
        self.setFillColor(MUTED)
        self.setStrokeColor(LINE)
        self.setLineWidth(0.25)
        self.line(15 * mm, 12 * mm, width - 15 * mm, 12 * mm)
        self.drawString(15 * mm, 8 * mm, self._running[:120])
        label = self.page_label.format(page=self._pages) + " "
        label_width = self.stringWidth(label, FONT, 7)
        right = width - 15 * mm - 12
        self.drawString(right - label_width, 8 * mm, label)
        self.translate(right, 8 * mm)
        self.doForm("page_count")
        self.restoreState()

    def save(self):
        self.beginForm("page_count")
        self.setFont(FONT, 7)
        self.setFillColor(MUTED)
        self.drawString(0, 0, str(self._pages))
        self.endForm()
        super().save()


class Document(BaseDocTemplate):
    def __init__(self, out, *, title: str, subject: str):
        super().__init__(
            out,
            pagesize=A4,
            leftMargin=15 * mm,
            rightMargin=15 * mm,
            topMargin=15 * mm,
            bottomMargin=18 * mm,
            title=title,
            subject=subject,
            author="ropa",
            creator="ropa register export",
        )
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=lambda canv, doc: canv.footer())])
        self._outline_keys = 0

    def afterFlowable(self, flowable):
        outline = getattr(flowable, "_outline", None)
        if outline:
            level, title = outline
            self._outline_keys += 1
            key = f"o{self._outline_keys}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(re.sub(r"<[^>]+>", "", title), key, level=level, closed=level > 0)


def layout(html: str, styles, width) -> list:
    parser = _Layout(styles, width)
    parser.feed(html)
    parser.close()
    return parser.flowables
