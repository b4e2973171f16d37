"""Load the privacy statements the register ships with (processing/statements/), idempotently."""

from django.core.management.base import BaseCommand, CommandError

from ropa.register_file import RegisterFileError, load, statement_files

from .import_register import _describe


class Command(BaseCommand):
    help = "Load the five shipped privacy statements (or the ones named) into the register. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="statements to load, e.g. voiceking conitro (default: all)")
        parser.add_argument("--dry-run", action="store_true", help="validate and report, store nothing")

    def handle(self, *args, names, dry_run, **options):
        try:
            files = statement_files(names)
            reports = [load(path, dry_run=dry_run) for path in files]
        except RegisterFileError as exc:
            raise CommandError(_describe(exc)) from None
        for report in reports:
            self.stdout.write(("[dry run] " if dry_run else "") + str(report))
        if not any(report.changed for report in reports):
            self.stdout.write(self.style.SUCCESS("The register already matches the statements; nothing changed."))
