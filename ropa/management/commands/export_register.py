"""Export the register for an auditor: XLSX (Belgian DPA layout), CSV, PDF or JSON, now or as of a date."""

import shutil
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ropa.register import DELIMITERS, FORMATS, LANGUAGES, ExportError, export_register


class Command(BaseCommand):
    help = (
        "Write the register of processing activities to a file: --format xlsx|csv|pdf|json, one controller "
        "(--controller KEY or id, repeatable) or all, as it stands or --as-of YYYY-MM-DD, headings in --lang."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", dest="fmt", choices=sorted(FORMATS), required=True, help="file format")
        parser.add_argument(
            "--controller",
            action="append",
            dest="controllers",
            metavar="KEY",
            help="controller key or id (repeat for several; default: all controllers)",
        )
        parser.add_argument("--as-of", dest="as_of", metavar="YYYY-MM-DD", help="the register as it stood that day")
        parser.add_argument("--lang", choices=LANGUAGES, default="en", help="language of headings and wording")
        parser.add_argument(
            "--delimiter",
            choices=DELIMITERS,
            default=",",
            help="CSV only: the field separator; ';' for spreadsheets set to Belgian, Dutch or French",
        )
        parser.add_argument(
            "-o",
            "--output",
            metavar="FILE",
            help="where to write (default: a dated name in the current folder; - for stdout)",
        )

    def handle(self, *args, fmt, controllers, as_of, lang, delimiter, output, **options):
        try:
            export = export_register(fmt=fmt, controller=controllers, as_of=as_of, lang=lang, delimiter=delimiter)
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        with export:
            if output == "-":
                shutil.copyfileobj(export.file, sys.stdout.buffer)
                sys.stdout.buffer.flush()
                return
            path = Path(output or export.filename)
            export.save(path)
        self.stderr.write(
            f"Wrote {path} ({fmt}, {export.controllers} controller(s), {export.activities} activities, "
            f"{export.size:,} bytes)."
        )
