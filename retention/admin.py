"""Retention in the admin: rules on the activity page and in their own list; legal holds (placed and
released through the services); runs, tombstones and the erasure feed, read-only evidence."""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten
from django.db.models import Exists, OuterRef
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from processing.admin import ProcessingActivityAdmin
from subjects.admin import PersonalDataRecordAdmin
from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord

from .models import ErasureNotice, LegalHold, RetentionRule, RetentionRun, Tombstone
from .selectors import held_q
from .services import legal_hold_place, legal_hold_release, record_update_dates


class RetentionRuleInline(admin.StackedInline):
    model = RetentionRule
    extra = 0
    fields = (
        ("duration_value", "duration_unit", "trigger"),
        ("action", "grace_days", "data_category"),
        ("statutory", "legal_reference"),
        "note",
        "source_quote",
        "position",
    )
    autocomplete_fields = ("data_category",)


# Retention builds on the register; the register does not know about retention.
ProcessingActivityAdmin.inlines = [*ProcessingActivityAdmin.inlines, RetentionRuleInline]


@admin.register(RetentionRule)
class RetentionRuleAdmin(SimpleHistoryAdmin):
    list_display = ("activity", "rule_sentence", "trigger", "action", "grace_days", "statutory")
    list_filter = ("trigger", "action", "statutory", "duration_unit", "activity__controller")
    search_fields = ("activity__reference", "activity__name", "activity__name_en", "legal_reference", "note")
    list_select_related = ("activity", "activity__controller", "data_category")
    autocomplete_fields = ("activity", "data_category")

    @admin.display(description=_("rule"))
    def rule_sentence(self, obj):
        return obj.sentence()


# --- enforcement: records, holds, runs, tombstones -------------------------------------------------


class PersonalDataRecordRetentionAdmin(PersonalDataRecordAdmin):
    """The record admin, with what retention knows: trigger dates editable through the service (the
    expiry follows), and whether a legal hold covers the record."""

    list_display = (*PersonalDataRecordAdmin.list_display, "held")

    def get_queryset(self, request):
        held = PersonalDataRecord.objects.filter(held_q(), pk=OuterRef("pk"))
        return super().get_queryset(request).annotate(_held=Exists(held))

    @admin.display(description=_("on hold"), boolean=True, ordering="_held")
    def held(self, obj):
        return obj._held

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == RecordStatus.ERASED:
            return super().get_readonly_fields(request, obj)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        record_update_dates(record=obj, dates={name: form.cleaned_data[name] for name in form.changed_data})


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


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin):
    """Place a hold with the add form; release with the list action. Both go through the services."""

    form = LegalHoldForm
    list_display = ("id", "scope_display", "reason_short", "placed_by", "placed_at", "released_at", "released_by")
    list_filter = (("released_at", admin.EmptyFieldListFilter), "activity__controller")
    search_fields = ("reason",)
    list_select_related = ("placed_by", "released_by")
    raw_id_fields = ("subject", "record")
    autocomplete_fields = ("controller", "activity")
    actions = ["release_holds"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return LegalHoldForm.Meta.fields
        return (
            "scope_display",
            "reason",
            ("placed_by", "placed_at"),
            ("released_by", "released_at"),
            "release_reason",
        )

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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Evidence: nobody adds, changes or deletes it by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
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
    list_filter = ("status", "dry_run", "controller", "origin")
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
    list_display = ("id", "source_system", "record_id", "action", "erased_at", "confirmed_at")
    list_filter = ("source_system", "action", ("confirmed_at", admin.EmptyFieldListFilter))
    date_hierarchy = "erased_at"
