"""The register as CSV: one row per activity, the register's columns, a header row.

UTF-8 with a byte-order mark and CRLF line ends, fields quoted as needed, lists one item per line
inside their cell: Excel opens it as it is. A cell that a spreadsheet would read as a formula gets a
leading apostrophe (CSV injection, ``ropa.kernel.csv``); telephone-like numbers keep their sign.
"""

import io
from typing import IO

from ropa.kernel.csv import csv_writer

from .columns import REGISTER_COLUMNS, as_text, register_rows
from .labels import say
from .snapshot import RegisterSnapshot


def write_csv(snapshot: RegisterSnapshot, out: IO[bytes], *, language: str, delimiter: str = ",") -> int:
    """Write the CSV to ``out``, fields separated by ``delimiter``; return the number of activities."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv_writer(text, dialect="excel", delimiter=delimiter)
    writer.writerow([say(column.heading, language) for column in REGISTER_COLUMNS])
    count = 0
    for row in register_rows(snapshot, language=language):
        writer.writerow([as_text(value) for value in row.values])
        count += 1
    text.flush()
    text.detach()  # leave ``out`` open for the caller
    return count
