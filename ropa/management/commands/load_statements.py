"""Load the privacy statements the register ships with (processing/statements/), idempotently.

An entry changed in the register since a statement loaded it (a DPO's name, an activity's owner, a
rule's note) is kept as it is and listed; ``--force`` takes the statements' values for it.
``--if-empty`` loads only into an empty register: ``./dev run`` seeds with it, so a restart never
touches the DPO's work.
"""

from django.core.management.base import BaseCommand, CommandError

from processing.models import Controller
from ropa.register.importer import RegisterFileError, load, statement_files

from .import_register import _describe


class Command(BaseCommand):
    help = (
        "Load the five shipped privacy statements (or the ones named) into the register. Safe to run again: "
        "entries changed in the register since they were loaded are kept and listed (--force takes the files')."
    )

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="statements to load, e.g. voiceking conitro (default: all)")
        parser.add_argument("--dry-run", action="store_true", help="validate and report, store nothing")
        parser.add_argument(
            "--force",
            action="store_true",
            help="also overwrite entries changed in the register since they were loaded, and recreate removed ones",
        )
        parser.add_argument("--if-empty", action="store_true", help="load only when the register has no controller yet")

    def handle(self, *args, names, dry_run, force, if_empty, **options):
        if if_empty and Controller.objects.exists():
            self.stdout.write(
                "The register already has entries: the statements were not loaded. "
                "`python manage.py load_statements` loads them, keeping what was changed in the register."
            )
            return
        try:
            files = statement_files(names)
            reports = [load(path, dry_run=dry_run, force=force) for path in files]
        except RegisterFileError as exc:
            raise CommandError(_describe(exc)) from None
        for report in reports:
            self.stdout.write(("[dry run] " if dry_run else "") + str(report))
        kept = sum(len(report.kept) for report in reports)
        if kept:
            self.stdout.write(
                self.style.WARNING(
                    f"{kept} entries changed in the register since they were loaded were kept as they are; "
                    "`python manage.py load_statements --force` takes the statements' values for them."
                )
            )
        elif not any(report.changed for report in reports):
            self.stdout.write(self.style.SUCCESS("The register already matches the statements; nothing changed."))
