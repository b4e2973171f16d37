"""Auditor exports of the register: XLSX (Belgian DPA layout), CSV, PDF and JSON (``ropa-register/1``).

One selector reads the register, now or as of a past date (``snapshot.register_snapshot``); one
function builds its rows from the columns declared once (``columns.register_rows``); the writers
only lay those rows out. The admin, the API and ``manage.py export_register`` call ``export_register``
(a file) or ``register_document`` (the JSON document as a dict) and choose nothing but the format.
"""

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from django.utils import timezone

from .document import snapshot_document, write_json
from .labels import LANGUAGES
from .snapshot import ExportError, RegisterSnapshot, register_snapshot

FORMATS = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "pdf": ("application/pdf", "pdf"),
    "json": ("application/json", "json"),
}
# Formats that carry the completeness report and the retention evidence (the tabular CSV and the
# JSON contract are the register alone).
WITH_EVIDENCE = frozenset({"xlsx", "pdf"})
# The CSV's field separators: a comma, or the semicolon spreadsheets expect where the comma is the decimal
# sign (Belgium, the Netherlands, France).
DELIMITERS = (",", ";")
SPOOL_BYTES = 8 * 1024 * 1024  # larger files go to a temporary file, not memory


@dataclass
class ExportFile:
    """A finished export: a binary file positioned at its start, with the name and type to serve it as.

    ``file`` is a spooled temporary file: serve it with ``FileResponse(export.file, ...)``, copy it with
    ``shutil.copyfileobj``, or read it whole with ``content``. Close it (or use ``with``) when done.
    """

    filename: str
    content_type: str
    file: IO[bytes]
    activities: int
    controllers: int
    size: int = field(default=0)

    @property
    def content(self) -> bytes:
        self.file.seek(0)
        data = self.file.read()
        self.file.seek(0)
        return data

    def chunks(self, size: int = 64 * 1024) -> Iterator[bytes]:
        self.file.seek(0)
        while chunk := self.file.read(size):
            yield chunk

    def save(self, path) -> None:
        self.file.seek(0)
        with open(path, "wb") as out:
            shutil.copyfileobj(self.file, out)
        self.file.seek(0)

    def close(self) -> None:
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _check(fmt: str, language: str, delimiter: str = ",") -> None:
    if fmt not in FORMATS:
        raise ExportError(f"Unknown format “{fmt}”; choose from {', '.join(FORMATS)}.")
    if delimiter not in DELIMITERS:
        raise ExportError(f"Unknown CSV separator “{delimiter}”; choose from {' or '.join(DELIMITERS)}.")
    if delimiter != "," and fmt != "csv":
        raise ExportError(f"A separator applies to CSV only, not to {fmt}.")
    if language not in LANGUAGES:
        raise ExportError(f"Unknown language “{language}”; choose from {', '.join(LANGUAGES)}.")


def export_filename(snapshot: RegisterSnapshot, fmt: str) -> str:
    who = snapshot.controllers[0].key if len(snapshot.controllers) == 1 else "all-controllers"
    when = snapshot.as_of.isoformat() if snapshot.as_of else timezone.localdate(snapshot.generated_at).isoformat()
    return f"register-{who}-{when}.{FORMATS[fmt][1]}"


def export_register(
    *,
    fmt: str,
    controller=None,
    as_of=None,
    lang: str = "en",
    delimiter: str = ",",
    now: dt.datetime | None = None,
) -> ExportFile:
    """The register of one controller, several or all, now or as of a date, as a file in ``fmt``.

        ``controller``: None for all, or a Controller, its id or key, or a list of those. ``as_of``: a date
        (or "YYYY-MM-DD"); the register is rebuilt from its version history as it stood at the end of that
        day. ``lang``: en, nl or fr, for headings and wording. ``delimiter``: the CSV's separator, ``,`` or
    ``;``. Raises ``ExportError`` on a bad argument.
    """
    # The writers load when a file is made: the PDF one brings ReportLab and its fonts, which the JSON
    # document and the rest of the app never need.
    from .delimited import write_csv
    from .pdf import write_pdf
    from .xlsx import write_xlsx

    _check(fmt, lang, delimiter)
    snapshot = register_snapshot(controller=controller, as_of=as_of, with_evidence=fmt in WITH_EVIDENCE, now=now)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - handed to the caller
    try:
        writer = {"xlsx": write_xlsx, "csv": write_csv, "pdf": write_pdf, "json": write_json}[fmt]
        options = {"delimiter": delimiter} if fmt == "csv" else {}
        count = writer(snapshot, out, language=lang, **options)
        size = out.tell()
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return ExportFile(
        filename=export_filename(snapshot, fmt),
        content_type=FORMATS[fmt][0],
        file=out,
        activities=count,
        controllers=len(snapshot.controllers),
        size=size,
    )


def register_document(*, controller=None, as_of=None, lang: str = "en", now: dt.datetime | None = None) -> dict:
    """The register as a ``ropa-register/1`` document (docs/register-json.md), e.g. for GET /api/v1/register/."""
    _check("json", lang)
    snapshot = register_snapshot(controller=controller, as_of=as_of, now=now)
    return snapshot_document(snapshot, language=lang)


__all__ = ["DELIMITERS", "FORMATS", "LANGUAGES", "ExportError", "ExportFile", "export_register", "register_document"]
