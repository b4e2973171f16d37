"""One FilterSet per register model, for the API and any list page that wants the same filters.

Filters speak the register's codes and keys (``?controller=voiceking&legal_basis=consent``), never
database ids of vocabulary entries.
"""

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import ActivityRole, ActivityStatus, LegalBasis, MeasureKind, RecipientKind, TransferSafeguard
from .models import (
    Controller,
    DataCategory,
    DataSubjectCategory,
    ProcessingActivity,
    Purpose,
    Recipient,
    SecurityMeasure,
)


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 moment, turned to UTC before it reaches the database: PostgreSQL refuses offsets beyond
    ±15:59 that Python accepts, and a moment outside 1900-2199 is a typo, not a query."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(dt.UTC)
            except (OverflowError, ValueError):
                raise ValidationError({self.field_name: [_("Out of range.")]}) from None
            if not 1900 <= value.year <= 2199:
                raise ValidationError({self.field_name: [_("Give a moment between 1900 and 2199.")]})
        return super().filter(qs, value)


class IdFilter(django_filters.NumberFilter):
    """A database id: a whole number a 64-bit column can hold, else a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=2**63 - 1, **kwargs)


class SearchFilterSet(django_filters.FilterSet):
    """Adds ``q``: a case-insensitive match on the fields in ``search_fields``."""

    search_fields: tuple[str, ...] = ()
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=200)

    def search(self, queryset, name, value):
        if not value.strip():
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value.strip()})
        return queryset.filter(condition)


class ControllerFilterSet(SearchFilterSet):
    search_fields = ("name", "key", "enterprise_number")
    key = django_filters.CharFilter(max_length=64, label=_("Controller key"))
    country = django_filters.CharFilter(max_length=2, label=_("Country (ISO code)"))
    group = django_filters.CharFilter(max_length=200, label=_("Group"))

    class Meta:
        model = Controller
        fields = ["key", "country", "group"]


class RecipientFilterSet(SearchFilterSet):
    search_fields = ("name", "name_en", "key", "description")
    controller = django_filters.CharFilter(field_name="controller__key", max_length=64, label=_("Controller key"))
    key = django_filters.CharFilter(max_length=64, label=_("Recipient key"))
    kind = django_filters.ChoiceFilter(choices=RecipientKind.choices, label=_("Kind"))
    country = django_filters.CharFilter(max_length=2, label=_("Country (ISO code)"))
    inside_eea = django_filters.BooleanFilter(label=_("Inside the EEA"))
    safeguard = django_filters.ChoiceFilter(choices=TransferSafeguard.choices, label=_("Transfer safeguard"))

    class Meta:
        model = Recipient
        fields = ["controller", "key", "kind", "country", "inside_eea", "safeguard", "dpa_signed"]


class VocabularyFilterSet(SearchFilterSet):
    search_fields = ("code", "name", "name_en", "name_fr")
    code = django_filters.CharFilter(max_length=64, label=_("Code"))


class DataSubjectCategoryFilterSet(VocabularyFilterSet):
    class Meta:
        model = DataSubjectCategory
        fields = ["code"]


class DataCategoryFilterSet(VocabularyFilterSet):
    class Meta:
        model = DataCategory
        fields = ["code", "special_category", "criminal"]


class SecurityMeasureFilterSet(VocabularyFilterSet):
    kind = django_filters.ChoiceFilter(choices=MeasureKind.choices, label=_("Kind"))

    class Meta:
        model = SecurityMeasure
        fields = ["code", "kind"]


class ProcessingActivityFilterSet(SearchFilterSet):
    search_fields = ("reference", "name", "name_en", "description")
    controller = django_filters.CharFilter(field_name="controller__key", max_length=64, label=_("Controller key"))
    reference = django_filters.CharFilter(max_length=32, label=_("Reference"))
    status = django_filters.ChoiceFilter(choices=ActivityStatus.choices, label=_("Status"))
    role = django_filters.ChoiceFilter(choices=ActivityRole.choices, label=_("Role"))
    legal_basis = django_filters.ChoiceFilter(
        field_name="purposes__legal_basis", choices=LegalBasis.choices, distinct=True, label=_("Legal basis")
    )
    data_category = django_filters.CharFilter(
        field_name="data_categories__code", max_length=64, distinct=True, label=_("Data category code")
    )
    data_subject_category = django_filters.CharFilter(
        field_name="data_subject_categories__code", max_length=64, distinct=True, label=_("Data-subject category code")
    )
    recipient = django_filters.CharFilter(
        field_name="recipients__key", max_length=64, distinct=True, label=_("Recipient key")
    )
    third_country = django_filters.BooleanFilter(method="filter_third_country", label=_("Transfers outside the EEA"))
    special_category = django_filters.BooleanFilter(method="filter_special", label=_("Processes Art. 9 data"))
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte", label=_("Changed since"))

    class Meta:
        model = ProcessingActivity
        fields = [
            "controller",
            "reference",
            "status",
            "role",
            "profiling",
            "automated_decision_making",
            "dpia_required",
        ]

    def filter_third_country(self, queryset, name, value):
        outside = ProcessingActivity.objects.filter(recipients__inside_eea=False).values("pk")
        return queryset.filter(pk__in=outside) if value else queryset.exclude(pk__in=outside)

    def filter_special(self, queryset, name, value):
        special = ProcessingActivity.objects.filter(data_categories__special_category=True).values("pk")
        return queryset.filter(pk__in=special) if value else queryset.exclude(pk__in=special)


class PurposeFilterSet(SearchFilterSet):
    search_fields = ("description", "description_en", "description_fr")
    controller = django_filters.CharFilter(
        field_name="activity__controller__key", max_length=64, label=_("Controller key")
    )
    activity = IdFilter(field_name="activity_id", label=_("Activity id"))
    reference = django_filters.CharFilter(
        field_name="activity__reference", max_length=32, label=_("Activity reference")
    )
    legal_basis = django_filters.ChoiceFilter(choices=LegalBasis.choices, label=_("Legal basis"))
    status = django_filters.ChoiceFilter(
        field_name="activity__status", choices=ActivityStatus.choices, label=_("Activity status")
    )

    class Meta:
        model = Purpose
        fields = ["controller", "activity", "reference", "legal_basis", "status"]
