"""``manage.py retention_reapply_erasures [--journal PATH]``: after a restore, erase again what was erased since."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from retention.journal import JournalError, journal_path
from retention.reapply import erasures_reapply


class Command(BaseCommand):
    help = (
        "After restoring the database from a backup: put back the runs and tombstones of the erasure journal "
        "(ROPA_ERASURE_JOURNAL, or --journal) that the database lacks, and erase again every record the journal "
        "says was erased. Idempotent; prints the counts. Exits 1 if a record did not match its tombstone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--journal", type=Path, help="The journal file (default: ROPA_ERASURE_JOURNAL).")

    def handle(self, *args, **options):
        path = options["journal"] or journal_path()
        if path is None:
            self.stdout.write("no erasure journal is configured (ROPA_ERASURE_JOURNAL): nothing to re-apply")
            return
        if not path.exists():
            if options["journal"]:
                raise CommandError(f"no erasure journal at {path}")
            self.stdout.write(f"no erasure journal at {path} yet: nothing to re-apply")
            return
        try:
            report = erasures_reapply(path=path)
        except JournalError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            "\n".join(
                [
                    f"erasures re-applied from {path}:",
                    f"  tombstones put back: {report.tombstones_restored}",
                    f"  runs put back: {report.runs_restored}",
                    f"  anonymised again: {report.anonymised}",
                    f"  deleted again: {report.deleted}",
                    f"  already erased: {report.already_erased}",
                    f"  left under a legal hold in force: {report.held}",
                    f"  not matching their tombstone (left): {report.mismatched}",
                ]
            )
        )
        if report.held:
            self.stderr.write(
                f"{report.held} record(s) erased before the restore are under a legal hold in the restored database; "
                "if the hold was released before, release it again and run this command once more."
            )
        if report.mismatched:
            ids = ", ".join(str(pk) for pk in report.mismatched_ids[:20])
            raise CommandError(
                f"{report.mismatched} record(s) do not match their tombstone and were left (ids {ids}): were records "
                "registered after the restore, or the secret key changed? Check them before serving."
            )
