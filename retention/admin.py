"""Retention rules on the activity page and in their own list."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from processing.admin import ProcessingActivityAdmin

from .models import RetentionRule


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
