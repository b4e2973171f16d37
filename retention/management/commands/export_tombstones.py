"""``manage.py export_tombstones [--journal PATH]``: append the tombstones the erasure journal lacks."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from retention.journal import JournalError, journal_export


class Command(BaseCommand):
    help = (
        "Append to the erasure journal (ROPA_ERASURE_JOURNAL, or --journal) every tombstone and run it does not "
        "hold yet. Sweeps do this themselves after each run; run it before a backup and to start a journal. "
        "Refuses while the journal is ahead of the database (run retention_reapply_erasures first)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--journal", type=Path, help="The journal file (default: ROPA_ERASURE_JOURNAL).")

    def handle(self, *args, **options):
        try:
            appended = journal_export(path=options["journal"])
        except JournalError as error:
            raise CommandError(str(error)) from error
        except OSError as error:
            raise CommandError(f"cannot write the erasure journal: {error}") from error
        self.stdout.write(f"erasure journal: {appended} tombstone(s) appended")
