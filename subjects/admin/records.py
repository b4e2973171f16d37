"""Data subjects, their records and their consents in the admin: read-only where the systems and the sweep write."""

import datetime as dt
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from retention import requests as request_execution
from ropa.access.admin_mixins import ControllerScopedAdminMixin, RelatedInScopeListFilter
from ropa.access.scope import may_see_personal_data
from ropa.kernel.dates import short_day
from ropa.kernel.html import labelled, shortened

from .. import services
from ..choices import RecordStatus
from ..models import (
    ConsentRecord,
    DataSubject,
    PersonalDataRecord,
)


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
        month = re.fullmatch(r"(\d{4})-(\d{2})", value, re.ASCII)
        if month and 1 <= int(month[1]) <= 9998 and 1 <= int(month[2]) <= 12:
            year, month = int(month[1]), int(month[2])
            start = dt.datetime(year, month, 1, tzinfo=timezone.get_current_timezone())
            end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=start.tzinfo)
            return active.filter(expires_at__gte=max(start, now), expires_at__lt=end)
        if value:  # neither a choice nor a month (9999-12, 0000-01, -001-01, 2026-1): refused, not ignored
            raise IncorrectLookupParameters(f"due={value!r}")
        return queryset


class ExpiryFilter(admin.SimpleListFilter):
    """Whether a record has an expiry. "None": records no sweep erases as things stand (erased ones left
    out), which the dashboard counts; their rules or their dates must change for them ever to go."""

    title = _("expiry")
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return (("none", _("none: never erased as things stand")), ("set", _("set")))

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(expires_at__isnull=True).exclude(status=RecordStatus.ERASED)
        if self.value() == "set":
            return queryset.filter(expires_at__isnull=False)
        return queryset


@admin.register(PersonalDataRecord)
class PersonalDataRecordAdmin(ControllerScopedAdminMixin, TriggerDatesMixin, admin.ModelAdmin):
    controller_paths = ("activity__controller",)
    # At 1400 px: the activity by reference (its name on hover), the category, where the record stands (with
    # when it is erased once flagged, and a restriction), when its retention runs out and by which rule.
    list_display = ("id", "activity_reference", "category", "state", "expires", "rule", "source_system")
    list_filter = (
        "status",
        DueFilter,
        ExpiryFilter,
        ("restricted_at", admin.EmptyFieldListFilter),
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
        "restricted_at",
        "restricted_by",
        "created_at",
        "updated_at",
    )

    @admin.display(description=_("activity"), ordering="activity__reference")
    def activity_reference(self, obj):
        return labelled(obj.activity.reference, obj.activity.localized())

    @admin.display(description=_("category"), ordering="data_category__code")
    def category(self, obj):
        return shortened(obj.data_category.localized(), 28)

    @admin.display(description=_("status"), ordering="status")
    def state(self, obj):
        text = obj.get_status_display()
        if obj.status == RecordStatus.FLAGGED and obj.erase_after:
            text = _("%(status)s, from %(day)s") % {"status": text, "day": short_day(obj.erase_after)}
        if obj.restricted_at:
            text = _("%(status)s; restricted") % {"status": text}
        return text

    @admin.display(description=_("expires at"), ordering="expires_at")
    def expires(self, obj):
        return short_day(obj.expires_at) if obj.expires_at else "—"

    @admin.display(description=_("rule"))
    def rule(self, obj):
        return shortened(obj.expiry_rule.sentence(), 40) if obj.expiry_rule_id else "—"

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
            (_("Restriction of processing (Art. 18)"), {"fields": ("restricted_at", "restricted_by")}),
            (_("Dates retention rules read"), {"fields": self.date_fields}),
            *personal,
            (_("Bookkeeping"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
        )

    def get_readonly_fields(self, request, obj=None):
        # Dates are edited where retention is known (retention/admin/enforcement.py), so that the expiry follows.
        return [*self.readonly_fields, *(name for row in self.date_fields for name in row)]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- consent -------------------------------------------------------------------------------------------


class ConsentRecordForm(forms.ModelForm):
    class Meta:
        model = ConsentRecord
        fields = ("subject", "purpose", "given_at", "source", "evidence", "evidence_version")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "source" in self.fields:
            self.fields["source"].required = True  # blank in the table only once the person is forgotten


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ControllerScopedAdminMixin, admin.ModelAdmin):
    """Consents are recorded here (or by a source system over the API) and withdrawn with the action; a
    withdrawal moves the retention of the person's records under the purpose."""

    form = ConsentRecordForm
    controller_paths = ("subject__controller",)
    list_display = ("id", "subject", "controller", "purpose", "given_at", "withdrawn_at", "source", "evidence_version")
    list_filter = (
        ("subject__controller", RelatedInScopeListFilter),
        ("withdrawn_at", admin.EmptyFieldListFilter),
        "source",
    )
    search_fields = ("=subject__key", "=id")
    list_select_related = ("subject__controller", "purpose")
    raw_id_fields = ("subject", "purpose")
    actions = ["withdraw_consents"]

    @admin.display(description=_("controller"), ordering="subject__controller")
    def controller(self, consent):
        return consent.subject.controller

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (*ConsentRecordForm.Meta.fields, "withdrawn_at", "withdrawal_source", "recorded_by", "created_at")

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        saved = services.consent_record(
            subject=data["subject"],
            purpose=data["purpose"],
            given_at=data["given_at"],
            source=data["source"],
            evidence=data.get("evidence", ""),
            evidence_version=data.get("evidence_version", ""),
            actor=request.user,
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Withdraw the selected consents (now)"), permissions=["change"])
    def withdraw_consents(self, request, queryset):
        withdrawn, moved = 0, 0
        for consent in queryset.filter(withdrawn_at__isnull=True):
            _consent, changed = request_execution.consent_withdraw(consent=consent, source="admin", actor=request.user)
            withdrawn, moved = withdrawn + 1, moved + len(changed)
        self.message_user(
            request,
            _("%(n)s consent(s) withdrawn; the retention of %(m)s record(s) moved.") % {"n": withdrawn, "m": moved},
            messages.SUCCESS,
        )
