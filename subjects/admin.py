"""Data subjects and their records in the admin. Lists never show personal data: a record's payload and a
subject's identifiers appear only on their own page. Records are registered by internal systems and
erased only by the retention sweep, so the admin cannot add or delete them."""

import datetime as dt
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from retention import requests as request_execution
from ropa.access.admin_mixins import ControllerScopedAdminMixin, RelatedInScopeListFilter
from ropa.access.scope import may_see_personal_data

from . import rules, selectors, services
from .choices import PACKAGE_REQUEST_TYPES, Deadline, RecordStatus, RequestStatus, RequestType
from .models import (
    BY_URGENCY,
    ConsentRecord,
    DataSubject,
    DataSubjectRequest,
    DataSubjectRequestEvent,
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
        "restricted_at",
    )
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


# --- data-subject requests -----------------------------------------------------------------------------


class DeadlineFilter(admin.SimpleListFilter):
    """``?deadline=overdue`` and ``?deadline=due7``: the links the reminder mail and dashboards use."""

    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return Deadline.choices

    def queryset(self, request, queryset):
        return queryset.by_deadline(self.value()) if self.value() else queryset


class RequestEventInline(admin.TabularInline):
    model = DataSubjectRequestEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "from_status", "to_status", "actor_label", "reason", "detail")
    readonly_fields = fields

    def get_fields(self, request, obj=None):
        # A step's reason is the DPO's free text: the DPO's to read.
        return self.fields if may_see_personal_data(request.user) else tuple(f for f in self.fields if f != "reason")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RequestAddForm(forms.ModelForm):
    class Meta:
        model = DataSubjectRequest
        fields = ("controller", "subject", "type", "received_on", "source", "note")

    def clean(self):
        data = super().clean()
        subject, controller = data.get("subject"), data.get("controller")
        if subject and controller and subject.controller_id != controller.pk:
            self.add_error("subject", _("The subject belongs to another controller."))
        received = data.get("received_on")
        if received and received > timezone.localdate():
            self.add_error("received_on", _("A request cannot be received in the future."))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class RequiredReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class ExtendForm(RequiredReasonForm):
    months = forms.TypedChoiceField(
        label=_("Months"), choices=((1, "1"), (2, "2")), coerce=int, help_text=_("At most two months in all.")
    )


class CompleteForm(ReasonForm):
    fields_rectified = forms.CharField(
        label=_("Fields rectified"),
        required=False,
        help_text=_("Rectification: the names of the fields changed, comma-separated (names only, no values)."),
    )
    records = forms.CharField(
        label=_("Records to restrict"),
        required=False,
        help_text=_("Restriction: record ids, comma-separated; blank for every record of the subject."),
    )

    def clean_fields_rectified(self):
        raw = self.cleaned_data["fields_rectified"]
        return [name.strip() for name in raw.split(",") if name.strip()] or None

    def clean_records(self):
        raw = self.cleaned_data["records"].strip()
        if not raw:
            return None
        try:
            return [int(part) for part in raw.split(",") if part.strip()]
        except ValueError:
            raise ValidationError(_("Give record ids separated by commas.")) from None


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(ControllerScopedAdminMixin, admin.ModelAdmin):
    """Requests by urgency (open ones first, overdue leading), with the days left. The buttons on a
    request's page call the services: ask for proof of identity, verify it, extend, complete, reject,
    lift a restriction, download the package."""

    change_form_template = "admin/subjects/datasubjectrequest/change_form.html"
    list_display = ("id", "type", "controller", "subject", "status", "received_on", "due_on", "days_left_display")
    list_filter = (DeadlineFilter, ("controller", RelatedInScopeListFilter), "type", "status")
    search_fields = ("=id", "=subject__key")
    list_select_related = ("controller", "subject")
    raw_id_fields = ("subject",)
    inlines = [RequestEventInline]
    date_hierarchy = "received_on"

    ordering = BY_URGENCY

    @admin.display(description=_("days left"))
    def days_left_display(self, obj):
        if obj.status == RequestStatus.AWAITING_IDENTITY:
            return _("paused")
        left = obj.days_left()
        if left is None:
            return "—"
        if left < 0:
            return format_html('<strong class="overdue">{}</strong>', _("%(n)s overdue") % {"n": -left})
        return left

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = RequestAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    # The DPO's free text about a request may name the person: the DPO's to read (auditors see the rest).
    DPO_TEXTS = ("extension_reason", "note", "rejection_reason")

    def get_fields(self, request, obj=None):
        if obj is None:
            return RequestAddForm.Meta.fields
        fields = (
            "controller",
            "subject",
            "type",
            "status",
            "received_on",
            "due_on",
            "extension_months",
            "extension_reason",
            "paused_on",
            "paused_days",
            "identity_verified_at",
            "source",
            "note",
            "completed_at",
            "rejection_reason",
            "outcome",
        )
        return fields if may_see_personal_data(request.user) else tuple(f for f in fields if f not in self.DPO_TEXTS)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        saved = services.dsr_receive(
            controller=data["controller"],
            subject=data["subject"],
            type=data["type"],
            received_on=data["received_on"],
            source=data.get("source", ""),
            note=data.get("note", ""),
            actor=request.user,
        )
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # events are written by the services only

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if obj is not None:
            extra["request_actions"] = self.available_actions(obj) if self.has_change_permission(request, obj) else []
            extra["days_left"] = left = obj.days_left()
            extra["overdue_days"] = -left if left is not None and left < 0 else 0
        return super().change_view(request, object_id, form_url, extra_context=extra)

    # --- actions -----------------------------------------------------------------------------------

    ACTIONS = {
        "identity-request": (_("Ask for proof of identity"), ReasonForm),
        "identity-verify": (_("Identity verified"), ReasonForm),
        "extend": (_("Extend the deadline"), ExtendForm),
        "complete": (_("Complete (execute)"), CompleteForm),
        "reject": (_("Reject"), RequiredReasonForm),
        "lift-restriction": (_("Lift the restriction"), ReasonForm),
    }

    def available_actions(self, obj) -> list[tuple[str, str]]:
        names = []
        if obj.is_open:
            if obj.status != RequestStatus.AWAITING_IDENTITY and obj.identity_verified_at is None:
                names.append("identity-request")
            if obj.identity_verified_at is None:
                names.append("identity-verify")
            if obj.extension_months < rules.MAX_EXTENSION_MONTHS:
                names.append("extend")
            if obj.status != RequestStatus.AWAITING_IDENTITY:
                names.append("complete")
            names.append("reject")
        if obj.type == RequestType.RESTRICTION and obj.restricted_records.exists():
            names.append("lift-restriction")
        actions = [(name, self.ACTIONS[name][0]) for name in names]
        if obj.type in PACKAGE_REQUEST_TYPES and obj.status not in (
            RequestStatus.REJECTED,
            RequestStatus.AWAITING_IDENTITY,
        ):
            actions.append(("package", _("Download the package")))
        return actions

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/package/", wrap(self.package_view), name="subjects_datasubjectrequest_package"),
            path("<int:pk>/do/<slug:action>/", wrap(self.action_view), name="subjects_datasubjectrequest_action"),
            *super().get_urls(),
        ]

    def _request_for_change(self, request, pk) -> DataSubjectRequest:
        obj = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        return obj

    def package_view(self, request, pk):
        obj = self._request_for_change(request, pk)
        if obj.type not in PACKAGE_REQUEST_TYPES or obj.status in (
            RequestStatus.REJECTED,
            RequestStatus.AWAITING_IDENTITY,
        ):
            self.message_user(request, _("This request has no package to download."), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:subjects_datasubjectrequest_change", args=[obj.pk]))
        content = selectors.subject_package_zip(obj.subject)
        services.dsr_package_downloaded(request=obj, actor=request.user)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{selectors.package_filename(obj)}"'
        return response

    def action_view(self, request, pk, action):
        obj = self._request_for_change(request, pk)
        if action not in self.ACTIONS:
            raise PermissionDenied
        title, form_class = self.ACTIONS[action]
        back = reverse("admin:subjects_datasubjectrequest_change", args=[obj.pk])
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                self.run_action(action, obj, data, request.user)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    target = field if field in form.fields else None
                    for error in errors:
                        form.add_error(target, error)
            else:
                self.message_user(request, _("%(action)s: done.") % {"action": title}, messages.SUCCESS)
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title}: {obj}",
            "form": form,
            "opts": self.model._meta,
            "original": obj,
            "back": back,
            "today": dt.date.today(),
        }
        return TemplateResponse(request, "admin/subjects/datasubjectrequest/action.html", context)

    @staticmethod
    def run_action(action, obj, data, actor):
        reason = data.get("reason", "")
        if action == "identity-request":
            services.dsr_identity_request(request=obj, actor=actor, reason=reason)
        elif action == "identity-verify":
            services.dsr_identity_verify(request=obj, actor=actor, reason=reason)
        elif action == "extend":
            services.dsr_extend(request=obj, months=data["months"], reason=reason, actor=actor)
        elif action == "complete":
            request_execution.dsr_complete(
                request=obj,
                actor=actor,
                reason=reason,
                fields=data.get("fields_rectified"),
                records=data.get("records"),
            )
        elif action == "reject":
            services.dsr_reject(request=obj, reason=reason, actor=actor)
        elif action == "lift-restriction":
            services.dsr_restriction_lift(request=obj, actor=actor, reason=reason)
