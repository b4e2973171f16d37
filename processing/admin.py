"""The register in the Django admin: the DPO's working surface for Art. 30 entries."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from ropa.access.admin_mixins import (
    ChoicesInUseListFilter,
    ControllerScopedAdminMixin,
    HistoryRevertGuardMixin,
    RelatedInScopeListFilter,
)
from ropa.access.scope import scope_q
from ropa.kernel.dates import short_day
from ropa.kernel.html import in_language, shortened

from . import rules
from .choices import ActivityStatus, ReviewStatus
from .models import (
    Controller,
    DataCategory,
    DataSubjectCategory,
    ProcessingActivity,
    Purpose,
    Recipient,
    SecurityMeasure,
    Source,
)
from .services import (
    REVIEW_ATTENTION,
    activity_mark_reviewed,
    activity_review_flag,
    activity_review_state,
    controller_save,
    processing_activity_save,
    recipient_save,
    special_category_codes,
)


def _localized_cell(obj, *, chars: int | None = None):
    """An entry's name in the reader's language, else its fallback with a badge naming the language it is in."""
    asked = (translation.get_language() or "en")[:2]
    text, language = obj.localized_with_language("name", asked)
    return in_language(shortened(text, chars) if chars else text, language, asked)


@admin.register(Controller)
class ControllerAdmin(ControllerScopedAdminMixin, SimpleHistoryAdmin):
    controller_paths = ("pk",)
    # The authority and the statement's date are filters and on the controller's page: the list fits 1400 px.
    list_display = ("name", "enterprise_number", "country", "activity_count", "history_link")
    list_filter = (("country", ChoicesInUseListFilter), "group", "supervisory_authority")
    search_fields = ("name", "enterprise_number", "key", "email")
    prepopulated_fields = {"key": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "key", "enterprise_number", "group")}),
        (_("Contact"), {"fields": ("address", "country", "email", "phone", "website")}),
        (
            _("Data protection officer and representative"),
            {"fields": ("dpo_name", "dpo_email", "dpo_phone", "dpo_is_staff", "dpo_not_required", "representative")},
        ),
        (_("Supervision"), {"fields": ("supervisory_authority",)}),
        (
            _("Provenance"),
            {
                "fields": ("statement_title", "statement_file", "statement_date", "source_quote"),
                "classes": ("collapse",),
            },
        ),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_activities=Count("activities", filter=Q(activities__status=ActivityStatus.ACTIVE)))
        )

    @admin.display(description=_("active activities"), ordering="_activities")
    def activity_count(self, obj):
        return obj._activities

    @admin.display(description=_("history"))
    def history_link(self, obj):
        url = reverse("admin:processing_controller_history", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("changes"))

    def save_model(self, request, obj, form, change):
        controller_save(controller=obj, actor=request.user)


@admin.register(Recipient)
class RecipientAdmin(ControllerScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("localized_name", "controller", "kind", "country", "inside_eea", "safeguard", "dpa_signed")
    list_filter = (
        ("controller", RelatedInScopeListFilter),
        "kind",
        ("country", ChoicesInUseListFilter),
        "inside_eea",
        "safeguard",
        "dpa_signed",
    )
    search_fields = ("name", "name_en", "key", "description")
    list_select_related = ("controller",)
    autocomplete_fields = ("controller",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "controller",
                    "name",
                    "name_en",
                    "name_fr",
                    "key",
                    "kind",
                    "description",
                    "description_en",
                    "description_fr",
                )
            },
        ),
        (_("Location and transfer"), {"fields": ("country", "inside_eea", "safeguard", "safeguard_note")}),
        (_("Processor agreement"), {"fields": ("dpa_signed",)}),
        (_("Provenance"), {"fields": ("source_quote",), "classes": ("collapse",)}),
    )

    @admin.display(description=_("name"), ordering="name")
    def localized_name(self, obj):
        return _localized_cell(obj)

    def save_model(self, request, obj, form, change):
        recipient_save(recipient=obj, actor=request.user)


class VocabularyAdmin(HistoryRevertGuardMixin, SimpleHistoryAdmin):
    """Vocabularies are shared by every controller; the count is of the activities the user may see."""

    list_display = ("code", "localized_name", "name", "activity_count")
    search_fields = ("code", "name", "name_en", "name_fr")

    def get_queryset(self, request):
        condition = scope_q(request.user, "activities__controller")
        return super().get_queryset(request).annotate(_activities=Count("activities", filter=condition))

    @admin.display(description=_("name in your language"), ordering="name")
    def localized_name(self, obj):
        return _localized_cell(obj)

    @admin.display(description=_("activities"), ordering="_activities")
    def activity_count(self, obj):
        return obj._activities


@admin.register(DataSubjectCategory)
class DataSubjectCategoryAdmin(VocabularyAdmin):
    pass


@admin.register(DataCategory)
class DataCategoryAdmin(VocabularyAdmin):
    list_display = (*VocabularyAdmin.list_display[:-1], "special_category", "criminal", "activity_count")
    list_filter = ("special_category", "criminal")


@admin.register(SecurityMeasure)
class SecurityMeasureAdmin(VocabularyAdmin):
    list_display = (*VocabularyAdmin.list_display[:-1], "kind", "activity_count")
    list_filter = ("kind",)


class PurposeInline(admin.StackedInline):
    model = Purpose
    extra = 0
    min_num = 1
    fields = (("description", "description_en", "description_fr"), ("legal_basis", "legitimate_interest"), "position")


class SourceInline(admin.TabularInline):
    model = Source
    extra = 0
    fields = ("statement", "quote", "position")
    verbose_name_plural = _("provenance: source quotes")


class ProcessingActivityForm(forms.ModelForm):
    class Meta:
        model = ProcessingActivity
        fields = "__all__"  # noqa: DJ007 - the admin fieldsets decide what is shown

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.controller_id and "recipients" in self.fields:
            # Recipients are kept per controller: offer only this controller's.
            self.fields["recipients"].queryset = Recipient.objects.filter(controller_id=self.instance.controller_id)

    def clean(self):
        cleaned = super().clean()
        controller = cleaned.get("controller")
        foreign = [r.name for r in cleaned.get("recipients") or [] if controller and r.controller_id != controller.pk]
        if foreign:
            self.add_error(
                "recipients",
                _("Not recipients of %(controller)s: %(names)s.")
                % {"controller": controller, "names": ", ".join(foreign)},
            )
        categories = cleaned.get("data_categories") or []
        problems = rules.activity_problems(
            status=cleaned.get("status", ""),
            ended_on=cleaned.get("ended_on"),
            role=cleaned.get("role", ""),
            client=cleaned.get("client"),
            art9_condition=cleaned.get("art9_condition"),
            special_categories=special_category_codes(categories),
            activity_id=self.instance.pk,
            replaced_by_id=cleaned["replaced_by"].pk if cleaned.get("replaced_by") else None,
        )
        for problem in problems:
            if problem.field in self.fields and problem.field not in self.errors:
                self.add_error(problem.field, problem.message)
        return cleaned


class EEATransferFilter(admin.SimpleListFilter):
    title = _("transfers outside the EEA")
    parameter_name = "third_country"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        third_country = Q(recipients__inside_eea=False)
        if self.value() == "yes":
            return queryset.filter(third_country).distinct()
        if self.value() == "no":
            return queryset.exclude(third_country)
        return queryset


class LegalBasisFilter(admin.SimpleListFilter):
    title = _("legal basis")
    parameter_name = "legal_basis"

    def lookups(self, request, model_admin):
        return Purpose._meta.get_field("legal_basis").choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(purposes__legal_basis=self.value()).distinct()
        return queryset


class ReviewFilter(admin.SimpleListFilter):
    """The active activities by how fresh their review is (``rules.review_freshness``); "todo" is all three
    that call for the DPO (the dashboard and the reminder link to it)."""

    title = _("review")
    parameter_name = "review"
    TODO = "todo"

    def lookups(self, request, model_admin):
        return (*ReviewStatus.choices, (self.TODO, _("due, overdue or needed")))

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.TODO:
            return queryset.in_review(REVIEW_ATTENTION)
        if value in ReviewStatus.values:
            return queryset.in_review([value])
        return queryset


@admin.register(ProcessingActivity)
class ProcessingActivityAdmin(ControllerScopedAdminMixin, SimpleHistoryAdmin):
    form = ProcessingActivityForm
    change_form_template = "admin/processing/processingactivity/change_form.html"
    # The history is a button on the activity's page, the role a filter (and on the page), the last review's
    # date the review cell's tooltip: it fits 1400 px.
    list_display = ("reference", "localized_name", "controller_name", "status", "review")
    list_display_links = ("reference", "localized_name")
    actions = ["mark_reviewed"]
    readonly_fields = ("review_needed_reason", "review_needed_since")
    list_filter = (
        ("controller", RelatedInScopeListFilter),
        "status",
        ReviewFilter,
        "role",
        LegalBasisFilter,
        EEATransferFilter,
        "profiling",
        "dpia_required",
    )
    search_fields = ("reference", "name", "name_en", "description", "purposes__description", "purposes__description_en")
    list_select_related = ("controller",)
    autocomplete_fields = ("controller", "replaced_by")
    filter_horizontal = ("data_subject_categories", "data_categories", "recipients", "security_measures")
    inlines = [PurposeInline, SourceInline]
    formfield_overrides = {models.CharField: {"widget": forms.TextInput(attrs={"size": 80})}}
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "controller",
                    "reference",
                    "name",
                    "name_en",
                    "name_fr",
                    "description",
                    "description_en",
                    "description_fr",
                )
            },
        ),
        (_("Role"), {"fields": ("role", "client", "business_process", "owner")}),
        (
            _("Subjects and data (Art. 30(1)(c))"),
            {"fields": ("data_subject_categories", "data_categories", "art9_condition", "data_source", "minimum_age")},
        ),
        (_("Recipients and transfers (Art. 30(1)(d), (e))"), {"fields": ("recipients",)}),
        (_("Security measures (Art. 30(1)(g))"), {"fields": ("security_measures",)}),
        (_("Risk"), {"fields": ("automated_decision_making", "profiling", "dpia_required", "dpia_done_on")}),
        (_("Status"), {"fields": ("status", "ended_on", "replaced_by")}),
        (
            _("Review"),
            {"fields": ("last_reviewed_on", "review_cycle_months", "review_needed_reason", "review_needed_since")},
        ),
    )

    @admin.display(description=_("name"), ordering="name")
    def localized_name(self, obj):
        return _localized_cell(obj, chars=70)

    # Short words in the list ("verantwoordelijke", not "verwerkingsverantwoordelijke"): it is read in Dutch.
    @admin.display(description=pgettext_lazy("list column", "controller"), ordering="controller__name")
    def controller_name(self, obj):
        return obj.controller.name

    # Needed and overdue look as an error, due as a warning (``strong.overdue`` / ``strong.due``); the tooltip
    # gives the last review's date. An ended activity is no longer reviewed.
    @admin.display(description=_("review"), ordering="last_reviewed_on")
    def review(self, obj):
        status = obj.review_status()
        if status is None:
            return "—"
        last = short_day(obj.last_reviewed_on) if obj.last_reviewed_on else _("never")
        tip = _("last reviewed: %s") % last
        if status == ReviewStatus.CURRENT:
            return format_html('<span title="{}">{}</span>', tip, status.label)
        css = "due" if status == ReviewStatus.DUE else "overdue"
        return format_html('<strong class="{} review-{}" title="{}">{}</strong>', css, status.value, tip, status.label)

    @admin.action(description=_("Mark reviewed"), permissions=["change"])
    def mark_reviewed(self, request, queryset):
        done, refused = 0, []
        for activity in queryset.select_related("controller"):
            try:
                activity_mark_reviewed(activity=activity, actor=request.user)
            except ValidationError as exc:
                refused.append(f"{activity.reference}: {' '.join(exc.messages)}")
            else:
                done += 1
        if done:
            message = ngettext(
                "%(n)d processing activity marked reviewed.", "%(n)d processing activities marked reviewed.", done
            )
            self.message_user(request, message % {"n": done}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, _("Not marked reviewed: %s") % line, messages.ERROR)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/review/", wrap(self.review_view), name="processing_processingactivity_review"),
            *super().get_urls(),
        ]

    def review_view(self, request, pk):
        """The "Mark reviewed" button of the activity's page: asks, then marks it reviewed today."""
        activity = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, activity):
            raise PermissionDenied
        back = reverse("admin:processing_processingactivity_change", args=[activity.pk])
        if request.method == "POST":
            try:
                activity_mark_reviewed(activity=activity, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, _("Not marked reviewed: %s") % " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(request, _("%s marked reviewed today.") % activity, messages.SUCCESS)
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Mark reviewed: %s") % activity,
            "opts": self.model._meta,
            "original": activity,
            "back": back,
        }
        return TemplateResponse(request, "admin/processing/processingactivity/review_confirm.html", context)

    @admin.display(description=_("history"))
    def history_link(self, obj):
        url = reverse("admin:processing_processingactivity_history", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("changes"))

    def save_model(self, request, obj, form, change):
        # What a review depends on, as stored before this save; compared once the inlines are saved too.
        request._review_before = activity_review_state(obj) if change else None
        # The form already checked the Art. 9 rule against the submitted categories; M2M are saved after.
        processing_activity_save(
            activity=obj, actor=request.user, data_categories=list(form.cleaned_data["data_categories"])
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        reasons = activity_review_flag(
            activity=form.instance, before=getattr(request, "_review_before", None), actor=request.user
        )
        if reasons:
            self.message_user(
                request,
                _("This change calls for a review of the entry. %s") % " ".join(reasons),
                messages.WARNING,
            )

    def has_delete_permission(self, request, obj=None):
        # An activity is ended, never destroyed: the register must show what was processed and when.
        return False
