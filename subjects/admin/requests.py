"""Data-subject requests in the admin: filing, the steps of the workflow, completion and the access package."""

import datetime as dt

from django import forms
from django.contrib import admin, messages
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

from .. import rules, selectors, services
from ..choices import PACKAGE_REQUEST_TYPES, REQUEST_DUE_DAYS, Deadline, RequestStatus, RequestType
from ..models import (
    BY_URGENCY,
    DataSubjectRequest,
    DataSubjectRequestEvent,
)


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
        if left == 0:
            return format_html('<strong class="due">{}</strong>', _("due today"))
        if left <= REQUEST_DUE_DAYS:
            return format_html('<strong class="due">{}</strong>', left)
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
            extra["due_soon_days"] = REQUEST_DUE_DAYS
            # Every field of a filed request is read-only (its steps are the buttons above): nothing to save.
            extra.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
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
