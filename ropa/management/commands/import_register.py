"""Load a register file (``ropa-file/1``) into the register, all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ropa.register.importer import RegisterFileError, load


class Command(BaseCommand):
    help = (
        "Validate a register file (YAML, see docs/register-format.md) and load it; "
        "nothing is stored if any entry is wrong. Entries changed in the register since they were loaded "
        "are kept and listed (--force takes the file's)."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, help="register file(s) to load, in order")
        parser.add_argument("--dry-run", action="store_true", help="validate and report, store nothing")
        parser.add_argument(
            "--force",
            action="store_true",
            help="also overwrite entries changed in the register since they were loaded, and recreate removed ones",
        )
        parser.add_argument(
            "--override-reason",
            default=None,
            help="why the file may weaken statutory retention rules that still keep records (audited); "
            "without it such a file is refused",
        )

    def handle(self, *args, files, dry_run, force, override_reason, **options):
        for path in files:
            try:
                report = load(path, dry_run=dry_run, force=force, override_reason=override_reason)
            except RegisterFileError as exc:
                raise CommandError(_describe(exc)) from None
            self.stdout.write(("[dry run] " if dry_run else "") + str(report))


def _describe(exc: RegisterFileError) -> str:
    lines = [f"{exc.filename}: refused, nothing was loaded ({len(exc.problems)} problem(s)):"]
    lines += [f"  - {problem}" for problem in exc.problems]
    return "\n".join(lines)
