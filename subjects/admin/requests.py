"""Data-subject requests in the admin: filing, the steps of the workflow, completion and the access package."""

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from processing.models import Controller
from retention import requests as request_execution
from retention.services import subject_records_erase_preview, subject_register
from ropa.access.admin_mixins import ControllerScopedAdminMixin, RelatedInScopeListFilter, add_service_errors
from ropa.access.scope import may_see_personal_data, scope_q
from ropa.kernel.dates import short_day

from .. import rules, selectors, services
from ..choices import (
    PACKAGE_REQUEST_TYPES,
    REQUEST_DUE_DAYS,
    Deadline,
    RequestLanguage,
    RequestStatus,
    RequestType,
)
from ..models import (
    BY_URGENCY,
    DataSubjectRequest,
    DataSubjectRequestEvent,
)
from .outcome import erasure_lines, outcome_lines
from .request_forms import CompleteForm, ExtendForm, ReasonForm, RequestAddForm, RequiredReasonForm


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
    fields = ("at", "kind", "from_status", "to_status", "actor_label", "reason", "detail_display")
    readonly_fields = fields

    @admin.display(description=_("detail"))
    def detail_display(self, obj):
        """The step's counts and dates as ``name: value`` (they are ids, counts and names, never values)."""
        detail = obj.detail or {}
        return (
            "; ".join(f"{name}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for name, v in detail.items())
            or "—"
        )

    def get_fields(self, request, obj=None):
        # A step's reason is the DPO's free text: the DPO's to read.
        return self.fields if may_see_personal_data(request.user) else tuple(f for f in self.fields if f != "reason")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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

    def get_changeform_initial_data(self, request):
        # The requester is answered in the language the DPO files in, unless the DPO picks another.
        initial = super().get_changeform_initial_data(request)
        language = (translation.get_language() or "en")[:2]
        initial.setdefault("language", language if language in RequestLanguage.values else RequestLanguage.EN)
        initial.setdefault("received_on", timezone.localdate())
        return initial

    # The DPO's free text about a request may name the person: the DPO's to read (auditors see the rest).
    DPO_TEXTS = ("extension_reason", "note", "rejection_reason")

    ADD_FIELDS = (
        "controller",
        "person",
        "new_person",
        "identifier_name",
        "type",
        "language",
        "received_on",
        "source",
        "note",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.ADD_FIELDS
        fields = (
            "controller",
            "subject",
            "type",
            "language",
            "status",
            "received_on",
            "due_on",
            "extension_months",
            "extension_reason",
            "paused_on",
            "paused_days",
            "identity_verified_at",
            "identity_overridden_at",
            "source",
            "note",
            "completed_at",
            "rejection_reason",
        )
        return fields if may_see_personal_data(request.user) else tuple(f for f in fields if f not in self.DPO_TEXTS)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        with transaction.atomic():
            subject = data.get("subject") or subject_register(
                controller=data["controller"], identifiers={data["identifier_name"]: data["person"].strip()}
            )
            saved = services.dsr_receive(
                controller=data["controller"],
                subject=subject,
                type=data["type"],
                received_on=data["received_on"],
                source=data.get("source", ""),
                note=data.get("note", ""),
                language=data.get("language") or RequestLanguage.EN,
                actor=request.user,
            )
        obj.pk = saved.pk

    def response_add(self, request, obj, post_url_continue=None):
        # A filed request's next steps are the buttons on its page: go there, not back to the list.
        if "_addanother" in request.POST or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, _("The request is filed: its steps are the buttons above."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:subjects_datasubjectrequest_change", args=[obj.pk]))

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
            extra["request_notices"] = self.notices(obj)
            extra["outcome_lines"] = outcome_lines(obj.type, obj.outcome)
            # Every field of a filed request is read-only (its steps are the buttons above): nothing to save.
            extra.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().change_view(request, object_id, form_url, extra_context=extra)

    @staticmethod
    def notices(obj) -> list[str]:
        """What the DPO should know before acting: an earlier erasure of the same person, an identity
        still to verify before the request may be completed."""
        notices = []
        if obj.type == RequestType.ERASURE:
            for earlier in selectors.earlier_erasures(obj)[:3]:
                outcome = earlier.outcome or {}
                notices.append(
                    _(
                        "This person's data was already erased by request #%(id)s on %(day)s: "
                        "%(erased)s record(s) erased, %(kept)s kept."
                    )
                    % {
                        "id": earlier.pk,
                        "day": short_day(earlier.completed_at),
                        "erased": len(outcome.get("erased", [])),
                        "kept": len(outcome.get("kept", [])),
                    }
                )
        if obj.is_open and rules.identity_problem(
            type=obj.type,
            identity_verified_at=obj.identity_verified_at,
            identity_overridden_at=obj.identity_overridden_at,
        ):
            notices.append(_("Verify the requester's identity before completing this request."))
        return notices

    def people_view(self, request):
        """The people of one controller matching what the DPO types (key prefix or identifier), as JSON
        for the filing form's choices; identifiers only for whom may see them."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        controllers = Controller.objects.all()
        scope = scope_q(request.user, "pk")
        if scope is not None:
            controllers = controllers.filter(scope)
        controller = controllers.filter(pk=request.GET.get("controller") or 0).first()
        if controller is None:
            return JsonResponse({"results": []})
        with_identifiers = may_see_personal_data(request.user)
        found = selectors.subject_candidates(controller, request.GET.get("q", ""))
        results = [
            {"value": subject.key, "label": selectors.subject_label(subject, with_identifiers=with_identifiers)}
            for subject in found
        ]
        return JsonResponse({"results": results})

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
            path("people/", wrap(self.people_view), name="subjects_datasubjectrequest_people"),
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
        try:
            services.dsr_package_downloaded(request=obj, actor=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:subjects_datasubjectrequest_change", args=[obj.pk]))
        content = selectors.subject_package_zip(obj.subject, language=obj.language)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{selectors.package_filename(obj)}"'
        return response

    def action_view(self, request, pk, action):
        obj = self._request_for_change(request, pk)
        if action not in self.ACTIONS:
            raise PermissionDenied
        title, form_class = self.ACTIONS[action]
        back = reverse("admin:subjects_datasubjectrequest_change", args=[obj.pk])
        form = (
            form_class(request.POST or None, request_obj=obj)
            if form_class is CompleteForm
            else form_class(request.POST or None)
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                self.run_action(action, obj, data, request.user)
            except ValidationError as exc:
                add_service_errors(form, exc)
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
            "notices": self.notices(obj),
            "preview": self.erasure_preview(obj) if action == "complete" else None,
        }
        return TemplateResponse(request, "admin/subjects/datasubjectrequest/action.html", context)

    @staticmethod
    def erasure_preview(obj) -> list[str] | None:
        """What completing an erasure request would erase and keep, and why, as sentences."""
        if obj.type != RequestType.ERASURE or not obj.is_open:
            return None
        preview = subject_records_erase_preview(subject=obj.subject)
        return erasure_lines(
            erased=preview["erased"], kept=preview["kept"], identifiers=preview["identifiers"], done=False
        )

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
                identity_override=data.get("identity_override", ""),
            )
        elif action == "reject":
            services.dsr_reject(request=obj, reason=reason, actor=actor)
        elif action == "lift-restriction":
            services.dsr_restriction_lift(request=obj, actor=actor, reason=reason)
