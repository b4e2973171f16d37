"""Filters on personal-data records: a subject's records, one record by its id in the source system,
records by status or expiry. Every filter is an indexed equality or range."""

import django_filters
from django.utils.translation import gettext_lazy as _

from processing.filtersets import UtcDateTimeFilter
from ropa.api.filters import IdFilter
from subjects.choices import Deadline, RecordStatus, RequestStatus, RequestType
from subjects.models import ConsentRecord, DataSubjectRequest, PersonalDataRecord


class PersonalDataRecordFilterSet(django_filters.FilterSet):
    subject = django_filters.CharFilter(field_name="subject__key", max_length=64, label=_("Subject key"))
    external_id = django_filters.CharFilter(max_length=200, label=_("Id in the source system"))
    source_system = django_filters.CharFilter(max_length=100, label=_("Source system"))
    status = django_filters.ChoiceFilter(choices=RecordStatus.choices, label=_("Status"))
    activity = IdFilter(field_name="activity_id", label=_("Activity id"))
    data_category = django_filters.CharFilter(
        field_name="data_category__code", max_length=64, label=_("Data category code")
    )
    restricted = django_filters.BooleanFilter(
        field_name="restricted_at", lookup_expr="isnull", exclude=True, label=_("Restricted (Art. 18)")
    )
    expires_before = UtcDateTimeFilter(field_name="expires_at", lookup_expr="lt", label=_("Expires before"))
    expires_after = UtcDateTimeFilter(field_name="expires_at", lookup_expr="gte", label=_("Expires at or after"))

    class Meta:
        model = PersonalDataRecord
        fields = ["subject", "external_id", "source_system", "status", "activity", "data_category"]


class ConsentFilterSet(django_filters.FilterSet):
    subject = django_filters.CharFilter(field_name="subject__key", max_length=64, label=_("Subject key"))
    purpose = IdFilter(field_name="purpose_id", label=_("Purpose id"))
    withdrawn = django_filters.BooleanFilter(
        field_name="withdrawn_at", lookup_expr="isnull", exclude=True, label=_("Withdrawn")
    )

    class Meta:
        model = ConsentRecord
        fields = ["subject", "purpose", "withdrawn"]


class DataSubjectRequestFilterSet(django_filters.FilterSet):
    """The same deadline values as the admin's filter (``Deadline``), through the same selector."""

    deadline = django_filters.ChoiceFilter(
        choices=Deadline.choices,
        method="filter_deadline",
        label=_("Deadline"),
    )
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices, label=_("Status"))
    type = django_filters.ChoiceFilter(choices=RequestType.choices, label=_("Type"))
    controller = django_filters.CharFilter(field_name="controller__key", max_length=64, label=_("Controller key"))
    subject = django_filters.CharFilter(field_name="subject__key", max_length=64, label=_("Subject key"))

    class Meta:
        model = DataSubjectRequest
        fields = ["deadline", "status", "type", "controller", "subject"]

    def filter_deadline(self, queryset, name, value):
        return queryset.by_deadline(value)
