"""CSV that a spreadsheet opens as data, never as formulas: every CSV the project writes goes through here.

A spreadsheet runs a cell as a formula when its text starts with ``=``, ``+``, ``-`` or ``@`` (also after
leading spaces or line breaks, and in full-width forms), and tab or carriage-return leads are used
to smuggle one past a filter (CSV injection). Such a cell gets a leading apostrophe, which spreadsheets
show as text and hide. Numbers keep their sign, telephone numbers their ``+``: they cannot call anything.
"""

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

_FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # and their full-width forms
_CONTROL_START = frozenset("\t\r\n")
_NUMBER = re.compile(r"[+-]?[\d\s().,/]+", re.ASCII)


def csv_cell(value: Any) -> str:
    """``value`` as the text of a CSV cell, defused when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    if not text:
        return text
    stripped = text.lstrip()
    if text[0] in _CONTROL_START or (stripped[:1] in _FORMULA_START and not _NUMBER.fullmatch(stripped)):
        return "'" + text
    return text


class CsvWriter:
    """``csv.writer`` whose every cell, headers included, goes through ``csv_cell``."""

    def __init__(self, out: IO[str], **kwargs):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: IO[str], **kwargs) -> CsvWriter:
    """The project's only way to write CSV: ``csv.writer(out, **kwargs)``, with every cell defused."""
    return CsvWriter(out, **kwargs)
