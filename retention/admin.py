"""Retention in the admin: rules on the activity page and in their own list; legal holds (placed and
released through the services); runs, tombstones and the erasure feed, read-only evidence."""

import copy
from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Window
from django.db.models.functions import RowNumber
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from processing.admin import ProcessingActivityAdmin
from processing.models import Controller, ProcessingActivity
from ropa.access.admin_mixins import ControllerScopedAdminMixin, RelatedInScopeListFilter
from ropa.access.scope import may_see_personal_data, scope_q, scoped, visible_controller_ids
from subjects.admin import PersonalDataRecordAdmin
from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord, ReviewDecision

from . import engine
from .models import HOLD_CONTROLLER_PATHS, ErasureNotice, LegalHold, RetentionRule, RetentionRun, Tombstone
from .review import (
    flagged_records_erase,
    flagged_records_hold,
    flagged_records_keep_until,
    flagged_records_release,
)
from .selectors import held_q
from .services import (
    RetentionChange,
    RuleWeakening,
    legal_hold_place,
    legal_hold_release,
    record_change_refusal,
    record_changes,
    record_update_dates,
    record_warnings,
    rule_changes,
    rule_weakening,
)


def retention_change_message(request, change: RetentionChange) -> None:
    """Tell the DPO, before any sweep can act, whose retention a rule change moved earlier: how many, how
    many are due now, and a link to them in the records list (ids only)."""
    if not change.earlier:
        return
    url = reverse("admin:subjects_personaldatarecord_changelist") + "?id__in=" + ",".join(map(str, change.records))
    listed = _(" (the first %(n)d)") % {"n": len(change.records)} if change.earlier > len(change.records) else ""
    messages.warning(
        request,
        format_html(
            _(
                "This change moves the expiry of {n} record(s) earlier; {due} of them are due now, and the next "
                'sweep flags them unless a legal hold keeps them. <a href="{url}">See these records</a>{listed}.'
            ),
            n=change.earlier,
            due=change.now_due,
            url=url,
            listed=listed,
        ),
    )


def _weakening_message(weakening: RuleWeakening) -> str:
    return _(
        "Rule %(id)d (“%(rule)s”) is a statutory minimum that still keeps %(n)d record(s): this change could "
        "erase them before the law allows. Leave the rule as it is, or give the reason for overriding it."
    ) % {"id": weakening.rule_id, "rule": weakening.text, "n": weakening.records_kept}


class RetentionRuleForm(forms.ModelForm):
    """A rule as the DPO edits it. A change that weakens a statutory minimum still keeping records (see
    ``services.rule_write_guard``) needs the reason for the override, which the audit trail keeps."""

    override_reason = forms.CharField(
        label=_("reason for overriding the statutory minimum"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text=_(
            "Only when this change weakens a statutory minimum that still keeps records (removing it, unsetting "
            "“statutory”, shortening its period, another trigger or data category): why it may anyway. Audited."
        ),
    )

    class Meta:
        model = RetentionRule
        fields = [f.name for f in RetentionRule._meta.concrete_fields if f.editable and not f.primary_key]

    def reason(self) -> str:
        return (getattr(self, "cleaned_data", {}).get("override_reason") or "").strip()

    def weakening(self, *, delete: bool = False) -> RuleWeakening | None:
        stored = RetentionRule.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        if stored is None:
            return None
        new = None
        if not delete:
            new = copy.copy(stored)
            for name in ("activity", "data_category", "duration_value", "duration_unit", "trigger", "statutory"):
                if name in self.cleaned_data:
                    setattr(new, name, self.cleaned_data[name])
        return rule_weakening(stored=stored, new=new)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("DELETE") and not self.errors and not self.reason():
            weakening = self.weakening()
            if weakening is not None:
                self.add_error("override_reason", _weakening_message(weakening))
        return cleaned


class RetentionRuleFormSet(forms.BaseInlineFormSet):
    """The rules on the activity page: saved together, their records' expiry recomputed once, and the DPO
    told whose retention moved earlier. Removing a statutory rule that still keeps records needs a reason."""

    request = None  # set by ``RetentionRuleInline.get_formset``

    def clean(self):
        super().clean()
        problems = []
        for form in self.deleted_forms:
            if form.instance.pk and not form.reason():
                weakening = form.weakening(delete=True)
                if weakening is not None:
                    problems.append(_weakening_message(weakening))
        if problems:
            raise ValidationError(problems)

    def save(self, commit=True):
        reasons = {form.instance.pk: form.reason() for form in self.initial_forms if form.instance.pk}
        with rule_changes(activity_id=self.instance.pk, override_reason=reasons) as outcome:
            saved = super().save(commit)
        if self.request is not None:
            retention_change_message(self.request, outcome.change)
        return saved


class RetentionRuleInline(admin.StackedInline):
    model = RetentionRule
    form = RetentionRuleForm
    formset = RetentionRuleFormSet
    extra = 0
    fields = (
        ("duration_value", "duration_unit", "trigger"),
        ("action", "grace_days", "data_category"),
        ("statutory", "maximum", "legal_reference"),
        "note",
        "source_quote",
        "position",
        "override_reason",
    )
    autocomplete_fields = ("data_category",)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.request = request
        return formset


# Retention builds on the register; the register does not know about retention.
ProcessingActivityAdmin.inlines = [*ProcessingActivityAdmin.inlines, RetentionRuleInline]


@admin.register(RetentionRule)
class RetentionRuleAdmin(ControllerScopedAdminMixin, SimpleHistoryAdmin):
    controller_paths = ("activity__controller",)
    list_display = ("activity", "rule_sentence", "trigger", "action", "grace_days", "statutory", "maximum")
    list_filter = (
        ("activity__controller", RelatedInScopeListFilter),
        "trigger",
        "action",
        "statutory",
        "maximum",
        "duration_unit",
    )
    search_fields = ("activity__reference", "activity__name", "activity__name_en", "legal_reference", "note")
    list_select_related = ("activity", "activity__controller", "data_category")
    autocomplete_fields = ("activity", "data_category")
    form = RetentionRuleForm

    @admin.display(description=_("rule"))
    def rule_sentence(self, obj):
        return obj.sentence()

    def get_readonly_fields(self, request, obj=None):
        # A rule stays with its activity: its records' expiry follows the rules of their own activity.
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, "activity") if obj is not None else readonly

    def save_model(self, request, obj, form, change):
        reasons = {obj.pk: form.reason()} if obj.pk else None
        with rule_changes(activity_id=obj.activity_id, override_reason=reasons) as outcome:
            super().save_model(request, obj, form, change)
        retention_change_message(request, outcome.change)

    def delete_model(self, request, obj):
        with rule_changes(activity_id=obj.activity_id) as outcome:
            super().delete_model(request, obj)
        retention_change_message(request, outcome.change)

    def delete_queryset(self, request, queryset):
        for activity_id in sorted(set(queryset.values_list("activity_id", flat=True))):
            with rule_changes(activity_id=activity_id) as outcome:
                super().delete_queryset(request, queryset.filter(activity_id=activity_id))
            retention_change_message(request, outcome.change)

    def get_deleted_objects(self, objs, request):
        """A statutory rule that still keeps records is not deleted here (no reason can be given on this
        page): it shows as protected, and the DPO removes it on its activity's page, with a reason."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for rule in objs:
            weakening = rule_weakening(stored=rule, new=None)
            if weakening is not None:
                protected = [
                    *protected,
                    _(
                        "%(rule)s: a statutory minimum that still keeps %(n)d record(s); remove it on its "
                        "activity's page, giving the reason for the override"
                    )
                    % {"rule": weakening.text, "n": weakening.records_kept},
                ]
        return deleted, counts, perms_needed, protected


# --- enforcement: records, holds, runs, tombstones -------------------------------------------------


class RecordDatesForm(forms.ModelForm):
    """A record's trigger dates as the DPO edits them: what the service would refuse (a restricted record,
    Art. 18) is refused on the form, before anything is saved."""

    def clean(self):
        cleaned = super().clean()
        record = self.instance
        if record.pk is not None:
            dates = {name: cleaned.get(name) for name in self.changed_data if name in self.fields}
            refusal = record_change_refusal(record, record_changes(record, dates=dates))
            if refusal is not None and refusal.facts.get("code") == "record_restricted":
                raise forms.ValidationError(
                    _(
                        "This record is restricted (Art. 18) by request #%(request)s: it is stored, not processed, "
                        "so its trigger dates cannot change until the restriction is lifted."
                    )
                    % {"request": refusal.facts.get("request") or "?"}
                )
            if refusal is not None:
                raise forms.ValidationError(refusal.detail)
        return cleaned


def record_warning_messages(record) -> list[str]:
    """``record_warnings`` in the DPO's language (field names as the page labels them)."""
    shown = []
    for warning in record_warnings(record):
        if warning["dates"]:
            labels = ", ".join(str(PersonalDataRecord._meta.get_field(name).verbose_name) for name in warning["dates"])
            shown.append(
                _("This record has no expiry, so no sweep will erase it: its retention rules wait for %(dates)s.")
                % {"dates": labels}
            )
        elif not warning["rules"]:
            shown.append(
                _(
                    "This record has no expiry, so no sweep will erase it: no retention rule of its activity "
                    "applies to its data category."
                )
            )
        else:
            shown.append(
                _("This record has no expiry, so no sweep will erase it: its retention runs past the calendar's end.")
            )
    return shown


class PersonalDataRecordRetentionAdmin(PersonalDataRecordAdmin):
    """The record admin, with what retention knows: trigger dates editable through the service (the
    expiry follows; refused while the record is restricted), whether a legal hold covers the record, and
    a warning when the record has no expiry."""

    form = RecordDatesForm
    list_display = (*PersonalDataRecordAdmin.list_display, "held")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            record = self.get_object(request, object_id)
            if record is not None:
                for text in record_warning_messages(record):
                    self.message_user(request, text, messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_queryset(self, request):
        held = PersonalDataRecord.objects.filter(held_q(), pk=OuterRef("pk"))
        return super().get_queryset(request).annotate(_held=Exists(held))

    @admin.display(description=_("on hold"), boolean=True, ordering="_held")
    def held(self, obj):
        return obj._held

    REVIEW_FIELDS = ("kept_until", "review_decisions", "review_actions")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # The page's own instance: whether its decisions show their reasons (the DPO's to read).
            obj.show_review_reasons = may_see_personal_data(request.user)
        if obj is not None and obj.status == RecordStatus.ERASED:
            return [*super().get_readonly_fields(request, obj), *self.REVIEW_FIELDS]
        return [*self.readonly_fields, *self.REVIEW_FIELDS]

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.insert(3, (_("Review (flag-only rules: the DPO decides)"), {"fields": self.REVIEW_FIELDS}))
        return fieldsets

    @admin.display(description=_("decisions"))
    def review_decisions(self, obj):
        decisions = list(obj.review_decisions.select_related("decided_by").order_by("decided_at", "pk"))
        if not decisions:
            return "-"
        personal = getattr(obj, "show_review_reasons", False)
        rows = [
            (
                decision.decided_at.strftime("%Y-%m-%d %H:%M"),
                decision.get_decision_display(),
                decision.kept_until.isoformat() if decision.kept_until else "",
                decision.decided_by.get_username() if decision.decided_by_id else "",
                decision.reason if personal else "",
            )
            for decision in decisions
        ]
        cells = "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"
        return format_html("<table>{}</table>", format_html_join("", cells, rows))

    @admin.display(description=_("decide"))
    def review_actions(self, obj):
        if obj.status != RecordStatus.FLAGGED:
            return "-"
        queue = reverse("retention-review")
        rule = obj.expiry_rule
        names = ["hold"] if rule is not None and rule.action in engine.ERASING_ACTIONS else ["erase", "keep", "hold"]
        return format_html_join(
            " · ",
            '<a href="{}?action={}&amp;record={}">{}</a>',
            ((queue, name, obj.pk, REVIEW_ACTIONS[name][1]) for name in names),
        )

    def save_model(self, request, obj, form, change):
        record = record_update_dates(record=obj, dates={name: form.cleaned_data[name] for name in form.changed_data})
        if "_continue" not in request.POST:  # the record's page, shown next, says it itself
            for text in record_warning_messages(record):
                self.message_user(request, text, messages.WARNING)


admin.site.unregister(PersonalDataRecord)
admin.site.register(PersonalDataRecord, PersonalDataRecordRetentionAdmin)


class LegalHoldForm(forms.ModelForm):
    class Meta:
        model = LegalHold
        fields = ("controller", "activity", "subject", "record", "reason")

    def clean(self):
        cleaned = super().clean()
        if sum(1 for name in ("controller", "activity", "subject", "record") if cleaned.get(name)) != 1:
            raise forms.ValidationError(_("Choose exactly one: a controller, an activity, a subject or a record."))
        return cleaned


class HoldStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("in_force", _("in force")), ("released", _("released")))

    def queryset(self, request, queryset):
        if self.value() == "in_force":
            return queryset.in_force()
        if self.value() == "released":
            return queryset.filter(released_at__isnull=False)
        return queryset


class HoldControllerFilter(admin.SimpleListFilter):
    """Holds covering anything of one controller, whatever their scope (the dashboard links here)."""

    title = _("controller")
    parameter_name = "controller"

    def lookups(self, request, model_admin):
        return [(str(c.pk), c.name) for c in scoped(Controller.objects.all(), request.user, "pk")]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            pk = int(self.value())
            condition = Q()
            for path in HOLD_CONTROLLER_PATHS:
                condition |= Q(**{f"{path}__pk": pk})
            return queryset.filter(condition)
        return queryset


@admin.register(LegalHold)
class LegalHoldAdmin(ControllerScopedAdminMixin, admin.ModelAdmin):
    """Place a hold with the add form; release with the list action. Both go through the services."""

    controller_paths = HOLD_CONTROLLER_PATHS
    form = LegalHoldForm
    list_display = ("id", "scope_display", "reason_short", "placed_by", "placed_at", "released_at", "released_by")
    list_filter = (HoldStateFilter, HoldControllerFilter)
    search_fields = ("reason",)
    list_select_related = ("placed_by", "released_by")
    raw_id_fields = ("subject", "record")
    autocomplete_fields = ("controller", "activity")
    actions = ["release_holds"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return LegalHoldForm.Meta.fields
        # A hold's reasons are the DPO's free text and may name a person: the DPO's to read.
        texts = may_see_personal_data(request.user)
        return (
            "scope_display",
            *(("reason",) if texts else ()),
            ("placed_by", "placed_at"),
            ("released_by", "released_at"),
            *(("release_reason",) if texts else ()),
        )

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return shown if may_see_personal_data(request.user) else tuple(f for f in shown if f != "reason_short")

    def get_search_fields(self, request):
        return super().get_search_fields(request) if may_see_personal_data(request.user) else ()

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else flatten(self.get_fields(request, obj))

    @admin.display(description=_("scope"))
    def scope_display(self, obj):
        return obj.scope_label()

    @admin.display(description=_("reason"))
    def reason_short(self, obj):
        return obj.reason[:80]

    def save_model(self, request, obj, form, change):
        if change:
            return
        hold = legal_hold_place(
            reason=form.cleaned_data["reason"],
            actor=request.user,
            **{
                name: form.cleaned_data[name]
                for name in ("controller", "activity", "subject", "record")
                if form.cleaned_data.get(name)
            },
        )
        obj.pk = hold.pk

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Release the selected holds"), permissions=["change"])
    def release_holds(self, request, queryset):
        released = 0
        for hold in queryset.filter(released_at__isnull=True):
            legal_hold_release(hold=hold, actor=request.user, reason=_("Released in the admin.").__str__())
            released += 1
        self.message_user(request, _("%(n)d hold(s) released; the next sweep takes what they held.") % {"n": released})


class ReadOnlyAdmin(ControllerScopedAdminMixin, admin.ModelAdmin):
    """Evidence: nobody adds, changes or deletes it by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):

    def controller_scope(self, request):
        # A run limited to no controller swept them all: a limited user sees it too.
        condition = super().controller_scope(request)
        return condition if condition is None else condition | Q(controller__isnull=True)
    list_display = (
        "id",
        "started_at",
        "finished_at",
        "dry_run",
        "status",
        "controller",
        "flagged",
        "anonymised",
        "deleted",
        "skipped_for_hold",
        "errors",
        "origin",
    )
    list_filter = ("status", "dry_run", ("controller", RelatedInScopeListFilter), "origin")
    search_fields = ("=id", "origin")
    list_select_related = ("controller",)
    date_hierarchy = "started_at"
    fields = (
        ("started_at", "finished_at", "heartbeat_at"),
        ("as_of", "dry_run", "controller", "origin", "status"),
        ("flagged", "anonymised", "deleted", "skipped_for_hold", "errors"),
        "counts_table",
        "error_log",
    )
    readonly_fields = flatten(fields)

    @admin.display(description=_("counts per rule"))
    def counts_table(self, obj):
        rules = RetentionRule.objects.in_bulk([int(rule) for rule in obj.counts if rule.isdigit()])
        rows = [
            (
                rules[int(rule)].sentence() if rule.isdigit() and int(rule) in rules else f"#{rule}",
                actions.get("flag", 0),
                actions.get("anonymise", 0),
                actions.get("delete", 0),
            )
            for rule, actions in obj.counts.items()
        ]
        if not rows:
            return "-"
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("rule"),
            _("flagged"),
            _("anonymised"),
            _("deleted"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )


@admin.register(Tombstone)
class TombstoneAdmin(ReadOnlyAdmin):
    controller_paths = ("activity__controller",)
    list_display = ("sequence", "erased_at", "action", "record_id", "activity_id", "data_category_id", "rule_id", "run")
    list_filter = ("action", "source_system")
    search_fields = ("=record_id", "=hash")
    list_select_related = ("run",)
    date_hierarchy = "erased_at"
    fields = (
        ("sequence", "erased_at", "action"),
        ("record_id", "activity_id", "data_category_id", "rule_id", "source_system"),
        "run",
        "previous_hash",
        "hash",
    )
    readonly_fields = flatten(fields)


@admin.register(ErasureNotice)
class ErasureNoticeAdmin(ReadOnlyAdmin):

    def controller_scope(self, request):
        # A feed line names no activity; its tombstone (same record id) does.
        ids = visible_controller_ids(request.user)
        if ids is None:
            return None
        return Q(record_id__in=Tombstone.objects.filter(activity__controller__in=ids).values("record_id"))
    list_display = ("id", "source_system", "record_id", "action", "erased_at", "confirmed_at")
    list_filter = ("source_system", "action", ("confirmed_at", admin.EmptyFieldListFilter))
    search_fields = ("=record_id", "source_system")
    date_hierarchy = "erased_at"


# --- the review queue: flagged records, grouped by activity and rule ------------------------------

REVIEW_SHOWN_PER_GROUP = 25
REVIEW_ACTIONS = {
    "hold": ("retention.add_legalhold", _("Place a legal hold")),
    "release": ("subjects.change_personaldatarecord", _("Let erasure proceed at the next sweep")),
    "erase": ("subjects.delete_personaldatarecord", _("Erase now (flag-only rule: your decision)")),
    "keep": ("subjects.change_personaldatarecord", _("Keep until a date, then review again (flag-only rule)")),
}
REFUSAL_LABELS = {
    "not_flagged": _("no longer flagged"),
    "rule_erases": _("their rule erases by itself"),
    "not_expired": _("retention not run out"),
    "held": _("under a legal hold"),
    "statutory": _("inside a statutory minimum"),
}


class ReviewConfirmForm(forms.Form):
    """The reason every decision in the queue takes; keeping also takes the day the record comes back."""

    LABELS = {
        "hold": (_("Reason for the hold"), _("Litigation, an investigation, a request of the data subject, ...")),
        "erase": (
            _("Reason for erasing now"),
            _("Why the data is no longer needed. Kept as evidence of the decision: keep personal data out."),
        ),
        "keep": (
            _("Reason for keeping"),
            _("Why the data is still needed until then. Kept as evidence of the decision: keep personal data out."),
        ),
    }

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))
    until = forms.DateField(
        label=_("Keep until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        help_text=_("The record leaves the queue and the sweep flags it again on this day."),
    )

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        label, help_text = self.LABELS.get(action, self.LABELS["hold"])
        self.fields["reason"].label, self.fields["reason"].help_text = label, help_text
        if action == "keep":
            self.fields["until"].required = True
        else:
            del self.fields["until"]


def _flagged(request):
    records = PersonalDataRecord.objects.filter(status=RecordStatus.FLAGGED)
    condition = scope_q(request.user, "activity__controller")
    return records if condition is None else records.filter(condition)


def _review_selection(data, flagged):
    """The records a request names: single records (``record``) and whole groups (``group`` = activity:rule)."""
    ids = [int(pk) for pk in data.getlist("record") if pk.isdigit()]
    condition = Q(pk__in=ids)
    for group in data.getlist("group"):
        activity, _sep, rule = group.partition(":")
        if activity.isdigit():
            condition |= Q(activity_id=int(activity), expiry_rule_id=int(rule) if rule.isdigit() else None)
    return flagged.filter(condition)


def _review_groups(flagged, controller_id=None):
    """Groups (activity, deciding rule) with counts and erasure dates, and their first records: three
    queries, however many records are flagged."""
    if controller_id:
        flagged = flagged.filter(activity__controller_id=controller_id)
    held = flagged.filter(held_q())
    rows = list(
        flagged.values("activity_id", "expiry_rule_id")
        .annotate(n=Count("pk"), first=Min("erase_after"), last=Max("erase_after"))
        .order_by("activity_id", "expiry_rule_id")
    )
    activities = ProcessingActivity.objects.select_related("controller").in_bulk([r["activity_id"] for r in rows])
    rules = RetentionRule.objects.in_bulk([r["expiry_rule_id"] for r in rows if r["expiry_rule_id"]])
    shown = (
        flagged.annotate(
            is_held=Exists(held.filter(pk=OuterRef("pk"))),
            review_rank=Window(
                RowNumber(), partition_by=[F("activity_id"), F("expiry_rule_id")], order_by=[F("erase_after"), F("pk")]
            ),
        )
        .select_related("data_category")
        .order_by("activity_id", "expiry_rule_id", "erase_after", "pk")
    )
    members = defaultdict(list)
    for record in shown.filter(review_rank__lte=REVIEW_SHOWN_PER_GROUP):
        members[(record.activity_id, record.expiry_rule_id)].append(record)
    groups = []
    for row in rows:
        key = (row["activity_id"], row["expiry_rule_id"])
        rule = rules.get(row["expiry_rule_id"])
        groups.append(
            {
                "key": f"{key[0]}:{key[1] or ''}",
                "activity": activities.get(row["activity_id"]),
                "rule": rule,
                "sentence": rule.sentence() if rule else _("no deciding rule"),
                # A flag-only rule never erases: its records have no erasure date, they await a decision.
                "erases": bool(rule and rule.action in engine.ERASING_ACTIONS),
                "count": row["n"],
                "first": row["first"],
                "last": row["last"],
                "records": members.get(key, []),
                "more": row["n"] - len(members.get(key, [])),
            }
        )
    return groups


def _refusals(outcome) -> str:
    return ", ".join(
        f"{len(ids)} {REFUSAL_LABELS.get(why, why)}" for why, ids in outcome.refused.items()
    ) or "-"


def _decide(request, action: str, selection, form) -> None:
    """Carry out a confirmed decision through the services and say what was done."""
    if action == "hold":
        holds = flagged_records_hold(records=selection, reason=form.cleaned_data["reason"], actor=request.user)
        messages.success(request, _("%(n)d legal hold(s) placed.") % {"n": len(holds)})
    elif action == "release":
        outcome = flagged_records_release(records=selection, actor=request.user)
        messages.success(
            request,
            _("Erasure approved for %(n)d record(s); the next sweep erases them. %(skipped)d skipped "
              "(held, no longer flagged, or their rule only flags: decide with “Erase now” or “Keep until”).")
            % {"n": outcome.done, "skipped": outcome.skipped},
        )
    elif action == "erase":
        outcome = flagged_records_erase(records=selection, reason=form.cleaned_data["reason"], actor=request.user)
        level = messages.success if outcome.done else messages.warning
        level(
            request,
            _("%(n)d record(s) erased now, with a tombstone and an erasure-feed line each (run %(runs)s). "
              "Refused: %(refused)s.")
            % {"n": outcome.done, "runs": ", ".join(f"#{pk}" for pk in outcome.runs) or "-",
               "refused": _refusals(outcome)},
        )
    elif action == "keep":
        until = form.cleaned_data["until"]
        outcome = flagged_records_keep_until(
            records=selection, until=until, reason=form.cleaned_data["reason"], actor=request.user
        )
        level = messages.success if outcome.done else messages.warning
        level(
            request,
            _("%(n)d record(s) kept until %(until)s: they leave the queue and come back flagged on that day. "
              "Refused: %(refused)s.")
            % {"n": outcome.done, "until": until.isoformat(), "refused": _refusals(outcome)},
        )


def retention_review_view(request):
    """The review queue: flagged records by activity and rule, the rule's sentence and the erasure date (or,
    for a flag-only rule, that the record awaits a decision); hold them, let their erasure proceed, or for a
    flag-only rule erase now or keep until a date, after a confirmation page with the reason. A GET naming
    ``action`` and ``record`` opens that confirmation page (the record's own page links there). Never shows
    a payload."""
    if not request.user.has_perm("subjects.view_personaldatarecord"):
        raise PermissionDenied
    flagged = _flagged(request)
    controllers = scoped(Controller.objects.order_by("name"), request.user, "pk")
    controller = request.GET.get("controller", "")
    controller_id = int(controller) if controller.isdigit() and controllers.filter(pk=controller).exists() else None
    queue = reverse("retention-review") + (f"?controller={controller_id}" if controller_id else "")
    context = {**admin.site.each_context(request), "opts": PersonalDataRecord._meta}
    data = request.POST if request.method == "POST" else request.GET
    if request.method == "POST" or "action" in request.GET:
        action = data.get("action", "")
        if action not in REVIEW_ACTIONS:
            messages.error(request, _("Choose what to do with the selected records."))
            return HttpResponseRedirect(queue)
        if not request.user.has_perm(REVIEW_ACTIONS[action][0]):
            raise PermissionDenied
        selection = _review_selection(data, flagged)
        confirmed = request.method == "POST" and "confirm" in request.POST
        form = ReviewConfirmForm(request.POST if confirmed else None, action=action)
        if confirmed and (action == "release" or form.is_valid()):
            try:
                _decide(request, action, selection, form)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            return HttpResponseRedirect(queue)
        if not selection.exists():
            messages.warning(request, _("Select at least one record or group."))
            return HttpResponseRedirect(queue)
        summary = list(
            selection.values("activity__reference", "activity__controller__name", "expiry_rule_id")
            .annotate(n=Count("pk"))
            .order_by("activity__controller__name", "activity__reference")
        )
        rules = RetentionRule.objects.in_bulk([row["expiry_rule_id"] for row in summary if row["expiry_rule_id"]])
        for row in summary:
            rule = rules.get(row["expiry_rule_id"])
            row["sentence"] = rule.sentence() if rule else ""
            row["flag_only"] = not (rule and rule.action in engine.ERASING_ACTIONS)
        context.update(
            {
                "title": _("Confirm: %(action)s") % {"action": REVIEW_ACTIONS[action][1]},
                "action": action,
                "action_label": REVIEW_ACTIONS[action][1],
                "form": form,
                "summary": summary,
                "total": sum(row["n"] for row in summary),
                "records": data.getlist("record"),
                "groups": data.getlist("group"),
                "queue": queue,
            }
        )
        return TemplateResponse(request, "admin/retention/review_confirm.html", context)
    context.update(
        {
            "title": _("Review flagged records"),
            "groups": _review_groups(flagged, controller_id),
            "controllers": controllers,
            "selected": controller_id,
            "actions": [(key, label) for key, (perm, label) in REVIEW_ACTIONS.items() if request.user.has_perm(perm)],
        }
    )
    return TemplateResponse(request, "admin/retention/review.html", context)


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ReadOnlyAdmin):
    """The DPO's decisions in the review queue, as evidence: erased now (with the run), kept until a day,
    held (with the hold). The reason is the DPO's to read."""

    controller_paths = ("activity__controller",)
    list_display = ("decided_at", "decision", "record_id", "activity", "kept_until", "run_id", "hold_id", "decided_by")
    list_filter = ("decision", ("activity__controller", RelatedInScopeListFilter))
    search_fields = ("=record__id",)  # the record's id (a join Django trims: erased records are found too)
    list_select_related = ("activity", "decided_by")
    date_hierarchy = "decided_at"

    def get_fields(self, request, obj=None):
        fields = ["record_id", "activity", "decision", "kept_until", "run_id", "hold_id", "decided_by", "decided_at"]
        return [*fields, "reason"] if may_see_personal_data(request.user) else fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)
