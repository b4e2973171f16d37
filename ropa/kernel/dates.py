"""Days as the register writes them: exactly ``YYYY-MM-DD``, ASCII digits, a day the calendar has.

``date.fromisoformat`` (Python 3.11+) also takes ``20260101`` and ISO week dates (``2026-W01-1`` is
2025-12-29), and Django's ``parse_date`` full-width digits; none of those is what a system meant when
the API asked for YYYY-MM-DD. ``parse_day`` takes the one form, and says whether the form is wrong or
the day does not exist.
"""

import datetime as dt
import re

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class NotADayError(ValueError):
    """Text that is not ``YYYY-MM-DD``, or a day the calendar does not have; the message says which."""

    def __init__(self, message, *, code: str):
        super().__init__(str(message))
        self.code = code


def parse_day(text) -> dt.date:
    """The day ``text`` (``YYYY-MM-DD``) names; ``NotADayError`` with code ``invalid`` for any other form,
    ``no_such_day`` for a day like 2026-02-30."""
    if not isinstance(text, str) or not _DAY.fullmatch(text):
        raise NotADayError(_("Use YYYY-MM-DD."), code="invalid")
    try:
        return dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        raise NotADayError(_("%(day)s is not a day of the calendar.") % {"day": text}, code="no_such_day") from None


def local_minute(moment: dt.datetime, *, seconds: bool = False) -> str:
    """A moment as ``YYYY-MM-DD HH:MM`` (``:SS`` with ``seconds``) in the configured time zone (TIME_ZONE),
    the one clock of titles, logs, mails and command output: never the UTC the database holds."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def short_day(value: dt.date | dt.datetime) -> str:
    """A day (a moment's day on the configured clock) in the active language's short date format."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return date_format(value, "SHORT_DATE_FORMAT")


def short_moment(moment: dt.datetime) -> str:
    """A moment on the configured clock in the active language's short date-and-time format."""
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
