"""English as written in Belgium and the Netherlands: day before month, 24-hour clock (British formats)."""

from django.conf.locale.en_GB.formats import *  # noqa: F403
from django.conf.locale.en_GB.formats import DATE_INPUT_FORMATS as _GB_DATE_INPUT_FORMATS

# ISO dates first, as the register files and the date pickers write them.
DATE_INPUT_FORMATS = ["%Y-%m-%d", *(f for f in _GB_DATE_INPUT_FORMATS if f != "%Y-%m-%d")]
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
