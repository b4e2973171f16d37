"""django-filter for the API, without building the FilterSet when the request filters on nothing."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

from ropa.kernel.dates import NotADayError, parse_day

from .validators import MAX_DATE, MIN_DATE

# What a boolean filter takes (empty: no filter). Django's select widget reads any other value as "unknown"
# and filters on nothing, so that ``?withdrawn=maybe`` would answer every row as if it had been understood.
BOOLEAN_VALUES = frozenset({"", "true", "false", "True", "False"})


class FilterBackend(DjangoFilterBackend):
    """``DjangoFilterBackend``, skipped when no query parameter names a filter: a FilterSet deep-copies
    its filters and validates a form on every request, which is most of the cost of an unfiltered page.
    A boolean filter takes ``true`` or ``false`` only (a 400 otherwise)."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not any(name in filterset_class.base_filters for name in request.query_params):
            return queryset
        errors = {
            name: [_("Either true or false.")]
            for name, field in filterset_class.base_filters.items()
            if isinstance(field, django_filters.BooleanFilter)
            and any(value not in BOOLEAN_VALUES for value in request.query_params.getlist(name))
        }
        if errors:
            raise ValidationError(errors)
        return super().filter_queryset(request, queryset, view)


class DayFormField(forms.Field):
    """A day written exactly YYYY-MM-DD, between 1900-01-01 and 2199-12-31: ``DateField`` for filters."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            day = parse_day(value)
        except NotADayError as error:
            raise forms.ValidationError(str(error), code=error.code) from None
        if not MIN_DATE <= day <= MAX_DATE:
            bounds = {"min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()}
            raise forms.ValidationError(_("Give a date between %(min)s and %(max)s.") % bounds)
        return day


class DateFilter(django_filters.Filter):
    """The API's date filter (``?expires_on=2026-03-01``): a day, exactly as ``DateField`` takes it. A
    FilterSet uses this one, never django-filter's ``DateFilter``, which takes week dates and full-width
    digits."""

    field_class = DayFormField


MAX_ID = 2**63 - 1  # the largest key a database can hold (SQLite refuses to bind a larger integer)


class IdFilter(django_filters.Filter):
    """A row's id: a whole number from 1 to ``MAX_ID``, a 400 otherwise, never a query the database
    cannot run. The API's filters on ids use this one."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
