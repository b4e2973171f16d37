"""Input checks shared by the API's serializers: strict dates in range, and JSON the database will store."""

import datetime as dt
import math

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ropa.kernel.dates import NotADayError, parse_day

# Far enough for any real trigger date, and far enough from year 9999 that adding a retention period of
# up to 200 years can never overflow.
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)
MAX_PAYLOAD_DEPTH = 16


def date_in_range(value: dt.date | None) -> None:
    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise serializers.ValidationError(
            _("Give a date between %(min)s and %(max)s.") % {"min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()}
        )


def clean_text(value: str) -> str | None:
    """The problem with a string PostgreSQL cannot store, if any."""
    if "\x00" in value:
        return _("Null characters are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("Surrogate characters are not allowed.")
    return None


def storable_json(value, depth: int = 0) -> None:
    """Refuse JSON that jsonb cannot hold (NUL, lone surrogates, infinities) or that nests absurdly deep."""
    if depth > MAX_PAYLOAD_DEPTH:
        raise serializers.ValidationError(_("Nested more than %d levels deep.") % MAX_PAYLOAD_DEPTH)
    if isinstance(value, str):
        problem = clean_text(value)
        if problem:
            raise serializers.ValidationError(problem)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise serializers.ValidationError(_("Numbers must be finite."))
    elif isinstance(value, dict):
        for key, item in value.items():
            storable_json(key, depth + 1)
            storable_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            storable_json(item, depth + 1)


class StrictCharField(serializers.CharField):
    """A string, and only a string: ``12`` is not silently taken for ``"12"``."""

    default_error_messages = {"invalid": _("Not a valid string.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class DateField(serializers.DateField):
    """A day written exactly ``YYYY-MM-DD`` (ASCII digits; no week dates, no ``20260101``), between
    1900-01-01 and 2199-12-31. The one date field of the API: every serializer, query parameter and
    filter that reads a date uses it, and so does the register-file import. The error says whether the
    form is wrong ("Use YYYY-MM-DD.") or the day does not exist ("2026-02-30 is not a day of the
    calendar.")."""

    default_error_messages = {
        "invalid": _("Use YYYY-MM-DD."),
        "datetime": _("Give a day (YYYY-MM-DD), not a moment."),
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(date_in_range)

    def to_internal_value(self, value):
        if isinstance(value, dt.datetime):
            self.fail("datetime")
        if isinstance(value, dt.date):
            return value
        try:
            return parse_day(value)
        except NotADayError as error:
            raise serializers.ValidationError(str(error), code=error.code) from None


class PayloadField(serializers.JSONField):
    """Any JSON value PostgreSQL's jsonb can store."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(storable_json)
