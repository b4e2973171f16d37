"""The breach register in the admin: breaches by urgency with the time left to notify, a breach's page
with its scope, assessments, filings and communications, and its steps as buttons (each a service)."""

from __future__ import annotations

import io

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ropa.access.admin_mixins import ControllerScopedAdminMixin, RelatedInScopeListFilter, add_service_errors
from ropa.access.scope import may_see_personal_data
from ropa.audit.models import AuditAction
from ropa.audit.services import audit_log
from ropa.kernel.csv import csv_writer
from ropa.kernel.dates import short_moment

from . import rules, selectors, services
from .admin_documents import BreachDocumentsMixin
from .admin_forms import (
    LANGUAGE_NAMES,
    AssessForm,
    BreachAddForm,
    CommunicationForm,
    ConfirmForm,
    CorrectForm,
    FileForm,
    InformedForm,
    ReasonForm,
    ScopeForm,
    WaiveForm,
)
from .choices import BreachStatus, RiskLevel
from .filters import BreachDeadlineFilter
from .models import Breach, BreachCommunication, BreachFiling, BreachScope, RiskAssessment


def time_left_text(due_at, now=None):
    """ "2 d 5 h left", "due in 40 min" or "overdue by 3 h", as a list cell with its urgency."""
    left = rules.time_left(due_at, now or timezone.now())
    hours = int(abs(left.total_seconds()) // 3600)
    words = (
        ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
        if hours < 48
        else ngettext("%(n)d day", "%(n)d days", hours // 24) % {"n": hours // 24}
    )
    if left.total_seconds() < 0:
        return format_html('<strong class="overdue">{}</strong>', _("overdue by %(time)s") % {"time": words})
    if hours < 24:
        return format_html('<strong class="due">{}</strong>', _("%(time)s left") % {"time": words})
    return _("%(time)s left") % {"time": words}


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ScopeInline(_ReadOnlyInline):
    model = BreachScope
    fields = readonly_fields = ("computed_at", "records_shown", "subjects_shown", "categories_shown", "correction_note")

    @admin.display(description=_("records"))
    def records_shown(self, obj):
        return _range(obj.counts.get("records"), obj.records_min, obj.records_max)

    @admin.display(description=_("people"))
    def subjects_shown(self, obj):
        return _range(obj.counts.get("subjects"), obj.subjects_min, obj.subjects_max)

    @admin.display(description=_("data categories"))
    def categories_shown(self, obj):
        special = set(obj.counts.get("special_categories", []))
        return (
            ", ".join(
                f"{code} ({c['records']}){' ⚠' if code in special else ''}"
                for code, c in obj.counts.get("per_category", {}).items()
            )
            or "—"
        )


def _range(counted, low, high):
    if low is None and high is None:
        return counted if counted is not None else "—"
    return f"{counted} → {low if low is not None else '?'}-{high if high is not None else '?'}"


class AssessmentInline(_ReadOnlyInline):
    model = RiskAssessment
    fields = readonly_fields = (
        "version",
        "assessed_at",
        "likelihood",
        "severity",
        "level",
        "encrypted",
        "pseudonymised",
        "consequences",
    )


class FilingInline(_ReadOnlyInline):
    model = BreachFiling
    fields = readonly_fields = ("phase", "filed_at", "channel", "reference", "late_reason")


class CommunicationInline(_ReadOnlyInline):
    model = BreachCommunication
    fields = readonly_fields = ("language", "version", "method", "sent_at", "text")


@admin.register(Breach)
class BreachAdmin(BreachDocumentsMixin, ControllerScopedAdminMixin, admin.ModelAdmin):
    change_form_template = "admin/breaches/breach/change_form.html"
    change_list_template = "admin/breaches/breach/change_list.html"
    list_display = ("id", "title", "controller", "status", "aware_moment", "deadline")
    list_filter = ("status", ("controller", RelatedInScopeListFilter), BreachDeadlineFilter)
    search_fields = ("=id", "title", "external_reference")
    list_select_related = ("controller",)
    inlines = [ScopeInline, AssessmentInline, FilingInline, CommunicationInline]
    readonly_fields = (
        "status",
        "notification_due_at",
        "waiver",
        "waiver_justification",
        "closed_at",
        "reopen_reasons",
        "external_reference",
        "reported_by",
    )

    def get_queryset(self, request):
        return selectors.urgent_first(super().get_queryset(request))

    @admin.display(description=_("aware at"), ordering="aware_at")
    def aware_moment(self, obj):
        return short_moment(obj.aware_at)

    @admin.display(description=_("deadline"), ordering="notification_due_at")
    def deadline(self, obj):
        if obj.status == BreachStatus.RECEIVED or obj.status == BreachStatus.ASSESSED:
            return format_html("{}: {}", _("notify"), time_left_text(obj.notification_due_at))
        return "—"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = BreachAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return BreachAddForm.Meta.fields
        return (
            "controller",
            "title",
            "status",
            "aware_at",
            "notification_due_at",
            "occurred_from",
            "occurred_until",
            "confidentiality",
            "integrity",
            "availability",
            "description",
            "discovery",
            "client_controller",
            "other_controllers",
            "owner",
            "external_reference",
            "reported_by",
            "waiver",
            "waiver_justification",
            "closed_at",
            "reopen_reasons",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # The clock and what it rests on are the services': awareness and nature are set when reported.
        return (*self.readonly_fields, "controller", "aware_at", "confidentiality", "integrity", "availability")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)  # descriptive fields only: the rest is read-only
            return
        data = form.cleaned_data
        breach, _created = services.breach_report(
            controller=data["controller"],
            title=data["title"],
            aware_at=data["aware_at"],
            natures=data["natures"],
            occurred_from=data.get("occurred_from"),
            occurred_until=data.get("occurred_until"),
            description=data.get("description", ""),
            discovery=data.get("discovery", ""),
            client_controller=data.get("client_controller", ""),
            owner=data.get("owner"),
            reported_by=request.user.get_username(),
        )
        obj.pk = breach.pk

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def has_delete_permission(self, request, obj=None):
        return False  # Art. 33(5): every breach stays documented

    # --- steps -------------------------------------------------------------------------------------

    STEPS = {
        "scope": (_("Compute the scope"), ScopeForm),
        "correct": (_("Correct the counts"), CorrectForm),
        "assess": (_("Assess the risk"), AssessForm),
        "file": (_("Notify the authority"), FileForm),
        "not-notifiable": (_("Not notifiable"), ConfirmForm),
        "hold": (_("Hold the evidence"), ConfirmForm),
        "communication": (_("Write the communication"), CommunicationForm),
        "informed": (_("People informed"), InformedForm),
        "waive": (_("Do not inform (Art. 34(3))"), WaiveForm),
        "close": (_("Close"), ConfirmForm),
        "reopen": (_("Reopen"), ReasonForm),
    }

    def available_steps(self, obj) -> list[tuple[str, str]]:
        s = obj.status
        names = []
        if s != BreachStatus.CLOSED:
            names += ["scope", "assess"]
            if obj.scopes.exists():
                names += ["correct", "hold"]
        if s in (
            BreachStatus.ASSESSED,
            BreachStatus.NOTIFIED,
            BreachStatus.SUBJECTS_INFORMED,
            BreachStatus.SUBJECTS_WAIVED,
        ):
            names.append("file")
        latest = selectors.latest_assessment(obj)
        if s == BreachStatus.ASSESSED and latest is not None and latest.level == RiskLevel.NONE:
            names.append("not-notifiable")
        if s == BreachStatus.NOTIFIED:
            names += ["communication", "informed", "waive"]
        if s in (
            BreachStatus.NOTIFIED,
            BreachStatus.NOT_NOTIFIABLE,
            BreachStatus.SUBJECTS_INFORMED,
            BreachStatus.SUBJECTS_WAIVED,
        ):
            names.append("close")
        if s in (BreachStatus.CLOSED, BreachStatus.NOT_NOTIFIABLE):
            names.append("reopen")
        return [(name, self.STEPS[name][0]) for name in names]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if obj is not None:
            extra["breach_steps"] = self.available_steps(obj) if self.has_change_permission(request, obj) else []
            extra["may_download_people"] = may_see_personal_data(request.user) and obj.scopes.exists()
            latest = selectors.latest_assessment(obj)
            extra["latest_level"] = latest.get_level_display() if latest else None
            if obj.status in (BreachStatus.RECEIVED, BreachStatus.ASSESSED):
                extra["deadline_text"] = time_left_text(obj.notification_due_at)
            complement = services.complement_due_at(obj)
            extra["complement_text"] = time_left_text(complement) if complement else None
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/do/<slug:step>/", wrap(self.step_view), name="breaches_breach_step"),
            path("<int:pk>/people/", wrap(self.people_view), name="breaches_breach_people"),
            *self.document_urls(),
            *super().get_urls(),
        ]

    def people_view(self, request, pk):
        """The people the latest scope selects now, with their identifiers, to tell them (Art. 34): the
        DPO's only, built when downloaded, never stored on the breach; the download is in the audit trail."""
        obj = get_object_or_404(self.get_queryset(request), pk=pk)
        if not may_see_personal_data(request.user):
            raise PermissionDenied
        scope = obj.scopes.order_by("-computed_at", "-id").first()
        if scope is None:
            self.message_user(request, _("Compute the scope first."), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:breaches_breach_change", args=[obj.pk]))
        out = io.StringIO()
        writer = csv_writer(out, lineterminator="\r\n")
        writer.writerow(["controller", "key", "identifiers"])
        for subject in selectors.scope_subjects(scope).select_related("controller").order_by("controller__key", "key"):
            shown = "\n".join(f"{name}: {value}" for name, value in sorted((subject.identifiers or {}).items()))
            writer.writerow([subject.controller.key, subject.key, shown])
        audit_log(
            action=AuditAction.EXPORT,
            obj=obj,
            object_repr=f"breach #{obj.pk}: the people of scope #{scope.pk}",
        )
        response = HttpResponse(("\ufeff" + out.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="breach-{obj.pk}-people.csv"'
        return response

    def step_view(self, request, pk, step):
        obj = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, obj) or step not in self.STEPS:
            raise PermissionDenied
        title, form_class = self.STEPS[step]
        back = reverse("admin:breaches_breach_change", args=[obj.pk])
        kwargs = {"breach": obj} if form_class in (ScopeForm, InformedForm) else {}
        drafts = None
        if step == "communication":
            # The text starts from a draft built from the breach, in the language picked (the DPO's first).
            language = request.GET.get("language") or (translation.get_language() or "en")[:2]
            language = language if language in ("nl", "fr", "en") else "en"
            kwargs["initial"] = {"language": language, "text": selectors.communication_draft(obj, language)}
            drafts = [(code, name, f"?language={code}") for code, name in LANGUAGE_NAMES]
        form = form_class(request.POST if request.method == "POST" else None, **kwargs)
        if request.method == "POST" and form.is_valid():
            try:
                self.run_step(step, obj, form, request.user)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                self.message_user(request, _("%(step)s: done.") % {"step": title}, messages.SUCCESS)
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title}: {obj}",
            "form": form,
            "opts": self.model._meta,
            "original": obj,
            "back": back,
            "drafts": drafts,
        }
        return TemplateResponse(request, "admin/breaches/breach/action.html", context)

    @staticmethod
    def run_step(step, obj, form, actor):
        data = form.cleaned_data
        if step == "scope":
            services.breach_scope_compute(breach=obj, criteria=form.criteria())
        elif step == "correct":
            scope = obj.scopes.order_by("-computed_at", "-id").first()
            note = data.pop("correction_note")
            services.breach_scope_correct(scope=scope, note=note, **data)
        elif step == "assess":
            services.breach_assess(breach=obj, actor=actor, **data)
        elif step == "file":
            services.breach_file(breach=obj, **data)
        elif step == "not-notifiable":
            services.breach_not_notifiable(breach=obj)
        elif step == "hold":
            services.breach_hold_evidence(breach=obj, actor=actor)
        elif step == "communication":
            services.breach_communication_save(breach=obj, language=data["language"], text=data["text"])
        elif step == "informed":
            services.breach_subjects_informed(breach=obj, **data)
        elif step == "waive":
            services.breach_waive(breach=obj, ground=data["waiver"], justification=data["waiver_justification"])
        elif step == "close":
            services.breach_close(breach=obj, actor=actor)
        elif step == "reopen":
            services.breach_reopen(breach=obj, reason=data["reason"])
