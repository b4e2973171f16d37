"""Data subjects and their records in the admin. Lists never show personal data: a record's payload and a
subject's identifiers appear only on their own page. Records are registered by internal systems and
erased only by the retention sweep, so the admin cannot add or delete them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import DataSubject, PersonalDataRecord


@admin.register(DataSubject)
class DataSubjectAdmin(admin.ModelAdmin):
    list_display = ("key", "controller", "created_at")
    list_filter = ("controller",)
    search_fields = ("key",)
    list_select_related = ("controller",)
    readonly_fields = ("controller", "key", "identifiers", "created_at")

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


@admin.register(PersonalDataRecord)
class PersonalDataRecordAdmin(TriggerDatesMixin, admin.ModelAdmin):
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
    list_filter = ("status", "activity__controller", "activity", "data_category", "source_system")
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
        return (
            (None, {"fields": ("subject", "activity", "data_category", "retention_rule")}),
            (_("Source"), {"fields": ("source_system", "external_id")}),
            (
                _("Retention"),
                {"fields": ("status", "expires_at", "expiry_rule", "flagged_at", "erase_after", "erased_at")},
            ),
            (_("Dates retention rules read"), {"fields": self.date_fields}),
            (_("Personal data"), {"fields": ("payload",), "classes": ("collapse",)}),
            (_("Bookkeeping"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
        )

    def get_readonly_fields(self, request, obj=None):
        # Dates are edited where retention is known (retention/admin.py), so that the expiry follows.
        return [*self.readonly_fields, *(name for row in self.date_fields for name in row)]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
