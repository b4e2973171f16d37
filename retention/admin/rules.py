"""Retention rules in the admin: on the activity page (an inline whose changes are refused when they weaken a
statutory minimum still keeping records, unless a reason is given) and in their own list."""

import copy

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from processing.admin import ProcessingActivityAdmin
from ropa.access.admin_mixins import ControllerScopedAdminMixin, RelatedInScopeListFilter
from ropa.kernel.html import labelled, shortened

from ..models import RetentionRule
from ..services import (
    RetentionChange,
    RuleWeakening,
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
    # The sentence says the period, the trigger, the action and whether it is a statutory minimum or a
    # maximum: the list shows it whole, beside the activity's reference (its name on hover) and the category.
    list_display = ("activity_reference", "rule_sentence", "category", "grace_days")
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

    @admin.display(description=_("activity"), ordering="activity__reference")
    def activity_reference(self, obj):
        return labelled(obj.activity.reference, obj.activity.localized())

    @admin.display(description=_("category"), ordering="data_category__code")
    def category(self, obj):
        return shortened(obj.data_category.localized(), 28) if obj.data_category_id else _("every category")

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
