"""Filters on personal-data records: a subject's records, one record by its id in the source system,
records by status or expiry. Every filter is an indexed equality or range."""

import django_filters
from django.utils.translation import gettext_lazy as _

from processing.filtersets import UtcDateTimeFilter
from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord


class PersonalDataRecordFilterSet(django_filters.FilterSet):
    subject = django_filters.CharFilter(field_name="subject__key", max_length=64, label=_("Subject key"))
    external_id = django_filters.CharFilter(max_length=200, label=_("Id in the source system"))
    source_system = django_filters.CharFilter(max_length=100, label=_("Source system"))
    status = django_filters.ChoiceFilter(choices=RecordStatus.choices, label=_("Status"))
    activity = django_filters.NumberFilter(field_name="activity_id", min_value=1, label=_("Activity id"))
    data_category = django_filters.CharFilter(
        field_name="data_category__code", max_length=64, label=_("Data category code")
    )
    expires_before = UtcDateTimeFilter(field_name="expires_at", lookup_expr="lt", label=_("Expires before"))
    expires_after = UtcDateTimeFilter(field_name="expires_at", lookup_expr="gte", label=_("Expires at or after"))

    class Meta:
        model = PersonalDataRecord
        fields = ["subject", "external_id", "source_system", "status", "activity", "data_category"]
