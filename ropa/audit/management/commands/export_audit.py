"""``manage.py export_audit --since 2026-01-01 [--until DATE] [-o FILE]``: the audit trail as CSV."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ropa.audit.exports import write_csv
from ropa.audit.models import AuditEvent
from ropa.kernel.dates import NotADayError, parse_day


def _day(value: str) -> dt.date:
    try:
        day = parse_day(value)
    except NotADayError as error:
        raise CommandError(f"{value!r}: {error}") from None
    if not dt.date.min < day < dt.date.max:
        raise CommandError(f"{value!r}: give a day after {dt.date.min} and before {dt.date.max}.")
    return day


class Command(BaseCommand):
    help = "Export the audit trail (who did what, when) as CSV, from --since to --until (days, inclusive)."

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--until", help="last day, YYYY-MM-DD (default: today)")
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args, since, until, output, **options):
        start = _day(since)
        end = _day(until) if until else timezone.localdate()
        if end < start:
            raise CommandError("--until is before --since.")
        tz = timezone.get_current_timezone()
        events = AuditEvent.objects.filter(
            at__gte=dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            at__lt=dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
        )
        if output:
            with open(output, "w", newline="", encoding="utf-8") as out:
                count = write_csv(events, out)
        else:
            count = write_csv(events, self.stdout)
        (self.stderr if not output else self.stdout).write(f"{count} events exported.")
