"""``manage.py retention_enforce [--dry-run] [--controller KEY]``: the beat sweep, from the shell."""

import argparse
import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from processing.models import Controller
from retention.journal import RestorePending
from retention.models import RunStatus
from retention.services import retention_enforce


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 1_000_000:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to 1000000, not {value!r}")
    return number


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 3600:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"seconds from 0 to 3600, not {value!r}")
    return number


class Command(BaseCommand):
    help = (
        "Flag records whose retention has run out and erase (anonymise or delete) the flagged ones whose grace "
        "period is over; the same service as the beat task. --dry-run reports and changes nothing. "
        "Exits 1 if the run failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report what a run would do; change nothing.")
        parser.add_argument("--controller", help="Only this controller (its key or id).")
        parser.add_argument(
            "--batch-size", type=_positive, help="Records per batch transaction (ROPA_RETENTION_BATCH_SIZE)."
        )
        parser.add_argument("--max-batches", type=_positive, help="Stop after this many batches (status 'partial').")
        parser.add_argument("--pause", type=_seconds, default=0.0, help="Seconds to wait between batches (throttle).")
        parser.add_argument(
            "--now", help="Judge expiry as of this ISO date-time instead of the clock (dry runs of the future)."
        )

    def handle(self, *args, **options):
        controller = None
        if options["controller"]:
            key = options["controller"]
            controller = Controller.objects.filter(key=key).first() or (
                Controller.objects.filter(pk=int(key)).first() if key.isdigit() and len(key) < 19 else None
            )
            if controller is None:
                raise CommandError(f"No controller {key!r}.")
        now = timezone.now()
        if options["now"]:
            try:
                now = parse_datetime(options["now"]) or dt.datetime.fromisoformat(options["now"])
            except ValueError:
                now = None
            if now is None:
                raise CommandError("--now takes an ISO date-time, e.g. 2030-01-01T00:00:00+01:00.")
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        try:
            run = retention_enforce(
                now=now,
                dry_run=options["dry_run"],
                controller=controller,
                batch_size=options["batch_size"],
                max_batches=options["max_batches"],
                pause=options["pause"],
                origin="command",
            )
        except RestorePending as pending:
            raise CommandError(f"No sweep: {pending}") from None
        self.stdout.write(summary(run))
        if run.status == RunStatus.FAILED:
            raise CommandError(f"retention run {run.pk} failed: {run.error_log.strip()}")


def summary(run) -> str:
    kind = "dry run (nothing changed)" if run.dry_run else "run"
    verb = "would be " if run.dry_run else ""
    lines = [
        f"retention {kind} #{run.pk} as of {run.as_of.isoformat()}: {run.status}",
        f"  {verb}flagged: {run.flagged}",
        f"  {verb}anonymised: {run.anonymised}",
        f"  {verb}deleted: {run.deleted}",
        f"  skipped for a legal hold: {run.skipped_for_hold}",
        f"  errors: {run.errors}",
    ]
    for rule, actions in run.counts.items():
        parts = ", ".join(f"{action} {n}" for action, n in sorted(actions.items()))
        lines.append(f"  rule #{rule}: {parts}")
    return "\n".join(lines)
