"""The register as CSV: one row per activity, the register's columns, a header row.

UTF-8 with a byte-order mark and CRLF line ends, fields quoted as needed, lists one item per line
inside their cell: Excel opens it as it is. A cell that a spreadsheet would read as a formula gets a
leading apostrophe (CSV injection); telephone-like numbers keep their sign.
"""

import csv
import io
import re
from typing import IO

from .columns import REGISTER_COLUMNS, as_text, register_rows
from .labels import say
from .snapshot import RegisterSnapshot

_NUMBER = re.compile(r"[+-]?[\d\s().,/]+")


def _defused(text: str) -> str:
    if text and text[0] in "=+-@\t\r" and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_csv(snapshot: RegisterSnapshot, out: IO[bytes], *, language: str) -> int:
    """Write the CSV to ``out``; return the number of activities."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text, dialect="excel")
    writer.writerow([say(column.heading, language) for column in REGISTER_COLUMNS])
    count = 0
    for row in register_rows(snapshot, language=language):
        writer.writerow([_defused(as_text(value)) for value in row.values])
        count += 1
    text.flush()
    text.detach()  # leave ``out`` open for the caller
    return count
