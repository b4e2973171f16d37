"""Register files (``ropa-file/1``, see docs/register-format.md): validate, then load, all or nothing.

Loading is idempotent: entries are matched on their keys and only what differs is written, so a second
load of the same file writes nothing (and no history rows). An entry changed in the register since a
file loaded it is never overwritten silently: it is kept and listed, unless the load is forced (see
``units``). Every problem names the file, the entry and the field; a file with any problem loads nothing.

The package, in the order a load runs: ``schema`` (the file's fields), ``validation`` (the register's
rules over the whole file), ``units`` (one entry written whole, left alone or kept), ``loading`` (a file
in one transaction), ``report`` (what it did).
"""

from .loading import load, statement_files
from .report import KeptEntry, LoadReport
from .schema import FORMAT, SOURCE_TEXTS_DIR, STATEMENTS_DIR, RegisterFileError
from .validation import parse

__all__ = [
    "FORMAT",
    "SOURCE_TEXTS_DIR",
    "STATEMENTS_DIR",
    "KeptEntry",
    "LoadReport",
    "RegisterFileError",
    "load",
    "parse",
    "statement_files",
]
