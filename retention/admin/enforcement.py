"""Enforcement in the admin: records' trigger dates, legal holds (placed and released through the services);
runs, tombstones and the erasure feed, read-only evidence."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from processing.models import Controller
from ropa.access.admin_mixins import ControllerScopedAdminMixin, RelatedInScopeListFilter
from ropa.access.scope import may_see_personal_data, scoped, visible_controller_ids
from ropa.kernel.dates import local_minute, short_moment
from ropa.kernel.html import labelled, shortened
from subjects.admin import PersonalDataRecordAdmin
from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord

from .. import engine
from ..choices import Action
from ..models import HOLD_CONTROLLER_PATHS, ErasureNotice, LegalHold, RetentionRule, RetentionRun, Tombstone
from ..selectors import held_q
from ..services import (
    legal_hold_place,
    legal_hold_release,
    record_change_refusal,
    record_changes,
    record_update_dates,
    record_warnings,
)
from ..tasks import retention_enforce_task
from .readonly import ReadOnlyAdmin
from .review import REVIEW_ACTIONS

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

    @admin.display(description=_("status"), ordering="status")
    def state(self, obj):
        """Where the record stands, and "on hold" when a legal hold covers it (no column of its own)."""
        text = super().state(obj)
        return format_html('{} <strong class="due">{}</strong>', text, _("on hold")) if obj._held else text

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
                local_minute(decision.decided_at),
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


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    change_list_template = "admin/retention/retentionrun/change_list.html"

    def get_urls(self):
        dry_run = path("dry-run/", self.admin_site.admin_view(self.dry_run_view), name="retention_retentionrun_dry_run")
        return [dry_run, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"can_dry_run": self._may_dry_run(request), **(extra_context or {})})

    @staticmethod
    def _may_dry_run(request) -> bool:
        return request.user.has_perm("retention.add_retentionrun")

    def dry_run_view(self, request):
        """Queue the sweep's task as a dry run, for every controller the user sees: it counts what it would
        flag and erase, changes nothing, and leaves its run in this list."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self._may_dry_run(request):
            raise PermissionDenied
        ids = visible_controller_ids(request.user)
        controllers = [None] if ids is None else sorted(ids)
        for controller_id in controllers:
            retention_enforce_task.apply_async(
                kwargs={"controller_id": controller_id, "dry_run": True, "origin": "admin"},
                expires=settings.ROPA_RETENTION_BEAT_EXPIRES,
            )
        if controllers:
            self.message_user(
                request,
                _(
                    "A dry run of the sweep is queued: it changes nothing, and its run shows here once the worker has "
                    "taken it (reload the page)."
                ),
            )
        else:
            self.message_user(request, _("No controller is in your scope: nothing to sweep."), messages.WARNING)
        return redirect("admin:retention_retentionrun_changelist")

    def controller_scope(self, request):
        # A run limited to no controller swept them all: a limited user sees it too.
        condition = super().controller_scope(request)
        return condition if condition is None else condition | Q(controller__isnull=True)

    # What a DPO reads at 1400 px: when, a dry run or not, how it ended, where, and what it did; the id,
    # the end, the origin and the counts per rule are on the run's page.
    list_display = (
        "started_at",
        "kind",
        "status",
        "swept",
        "outcome",
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

    @admin.display(description=_("kind"), ordering="dry_run")
    def kind(self, obj):
        return _("dry run") if obj.dry_run else _("sweep")

    @admin.display(description=_("controller"), ordering="controller__name")
    def swept(self, obj):
        return obj.controller.name if obj.controller_id else _("every controller")

    @admin.display(description=_("what it did"))
    def outcome(self, obj):
        counts = (
            (obj.flagged, _("%(n)d flagged")),
            (obj.anonymised, _("%(n)d anonymised")),
            (obj.deleted, _("%(n)d deleted")),
            (obj.skipped_for_hold, _("%(n)d kept for a legal hold")),
            (obj.errors, _("%(n)d failed batches")),
        )
        return ", ".join(str(label) % {"n": n} for n, label in counts if n) or _("nothing due")

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


class ErasedActionFilter(admin.SimpleListFilter):
    """A tombstone's action: only what erases (anonymise, delete), never "flag", which leaves no tombstone."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(action, label) for action, label in Action.choices if action in engine.ERASING_ACTIONS]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(Tombstone)
class TombstoneAdmin(ReadOnlyAdmin):
    controller_paths = ("activity__controller",)
    # The activity by its reference, the category by name, the rule as its sentence (whole on hover): what
    # an auditor reads at 1400 px; the record's id (search by it), the run and the hashes are on its page.
    list_display = (
        "number",
        "erased",
        "action",
        "activity_reference",
        "category",
        "rule_sentence",
    )
    list_filter = (ErasedActionFilter, "source_system")
    search_fields = ("=record_id", "=hash")
    list_select_related = ("run", "activity", "data_category", "rule")

    # Short headings: a tombstone's list is read in Dutch and French too, where the fields' names are long.
    @admin.display(description=_("no."), ordering="sequence")
    def number(self, obj):
        return obj.sequence

    @admin.display(description=_("erased at"), ordering="erased_at")
    def erased(self, obj):
        return short_moment(obj.erased_at)

    @admin.display(description=_("activity"), ordering="activity__reference")
    def activity_reference(self, obj):
        if obj.activity is None:
            return f"#{obj.activity_id}"
        return labelled(obj.activity.reference, obj.activity.localized())

    @admin.display(description=_("category"))
    def category(self, obj):
        if obj.data_category is None:
            return f"#{obj.data_category_id}"
        return shortened(obj.data_category.localized(), 28)

    @admin.display(description=_("rule"))
    def rule_sentence(self, obj):
        if obj.rule is None:
            return f"#{obj.rule_id}" if obj.rule_id else "-"
        return shortened(obj.rule.sentence(), 40)

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
