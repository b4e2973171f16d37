"""Data subjects and their records in the admin. Lists never show personal data: a record's payload and a
subject's identifiers appear only on their own page. Records are registered by internal systems and
erased only by the retention sweep, so the admin cannot add or delete them."""

import datetime as dt

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ropa.access.admin_mixins import ControllerScopedAdminMixin, RelatedInScopeListFilter
from ropa.access.scope import may_see_personal_data

from .choices import RecordStatus
from .models import DataSubject, PersonalDataRecord


@admin.register(DataSubject)
class DataSubjectAdmin(ControllerScopedAdminMixin, admin.ModelAdmin):
    list_display = ("key", "controller", "created_at")
    list_filter = (("controller", RelatedInScopeListFilter),)
    search_fields = ("=key",)
    list_select_related = ("controller",)
    readonly_fields = ("controller", "key", "identifiers", "created_at")

    def get_fields(self, request, obj=None):
        # The identifiers are personal data: the DPO's to read, on this page only.
        if may_see_personal_data(request.user):
            return self.readonly_fields
        return ("controller", "key", "created_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TriggerDatesMixin:
    date_fields = (
        ("collected_on", "first_contact_on", "last_contact_on"),
        ("contract_ended_on", "service_ended_on", "subscription_ended_on"),
        ("account_closed_on", "last_activity_on", "consent_withdrawn_on"),
        ("event_ended_on", "competition_ended_on", "last_invoice_financial_year_end"),
        ("controller_requested_on", "relevance_ended_on"),
    )


class DueFilter(admin.SimpleListFilter):
    """When retention runs out: overdue, within 30 or 90 days, or in one month (``YYYY-MM``, the dashboard's
    chart links there). Records still active; flagged and erased ones have their own status."""

    title = _("retention runs out")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return (("overdue", _("already")), ("30", _("within 30 days")), ("90", _("within 90 days")))

    def queryset(self, request, queryset):
        value = self.value() or ""
        now = timezone.now()
        active = queryset.filter(status=RecordStatus.ACTIVE)
        if value == "overdue":
            return active.filter(expires_at__lte=now)
        if value in ("30", "90"):
            return active.filter(expires_at__gt=now, expires_at__lte=now + dt.timedelta(days=int(value)))
        if len(value) == 7 and value[4] == "-" and value.replace("-", "").isdigit():
            year, month = int(value[:4]), int(value[5:])
            if 1 <= month <= 12:
                start = dt.datetime(year, month, 1, tzinfo=timezone.get_current_timezone())
                end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=start.tzinfo)
                return active.filter(expires_at__gte=max(start, now), expires_at__lt=end)
        return queryset


@admin.register(PersonalDataRecord)
class PersonalDataRecordAdmin(ControllerScopedAdminMixin, TriggerDatesMixin, admin.ModelAdmin):
    controller_paths = ("activity__controller",)
    list_display = (
        "id",
        "source_system",
        "activity",
        "data_category",
        "status",
        "expires_at",
        "flagged_at",
        "erase_after",
        "expiry_rule",
    )
    list_filter = (
        "status",
        DueFilter,
        ("activity__controller", RelatedInScopeListFilter),
        ("activity", RelatedInScopeListFilter),
        ("data_category", RelatedInScopeListFilter),
        "source_system",
    )
    search_fields = ("=id", "=external_id", "=subject__key")
    list_select_related = ("activity", "activity__controller", "data_category", "expiry_rule")
    date_hierarchy = "expires_at"
    readonly_fields = (
        "subject",
        "activity",
        "data_category",
        "retention_rule",
        "source_system",
        "external_id",
        "payload",
        "expires_at",
        "expiry_rule",
        "status",
        "flagged_at",
        "erase_after",
        "erased_at",
        "created_at",
        "updated_at",
    )

    def get_fieldsets(self, request, obj=None):
        # The payload is personal data: the DPO's to read, on the record's own page only.
        personal = (
            ((_("Personal data"), {"fields": ("payload",), "classes": ("collapse",)}),)
            if may_see_personal_data(request.user)
            else ()
        )
        return (
            (None, {"fields": ("subject", "activity", "data_category", "retention_rule")}),
            (_("Source"), {"fields": ("source_system", "external_id")}),
            (
                _("Retention"),
                {"fields": ("status", "expires_at", "expiry_rule", "flagged_at", "erase_after", "erased_at")},
            ),
            (_("Dates retention rules read"), {"fields": self.date_fields}),
            *personal,
            (_("Bookkeeping"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
        )

    def get_readonly_fields(self, request, obj=None):
        # Dates are edited where retention is known (retention/admin.py), so that the expiry follows.
        return [*self.readonly_fields, *(name for row in self.date_fields for name in row)]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
