"""The breach list's deadline filter: ``?deadline=open``, ``due24`` and ``overdue``, the links the dashboard
and the reminder mail use. One selector behind it (``reminders.by_deadline``)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .reminders import BreachDeadline, by_deadline


class BreachDeadlineFilter(admin.SimpleListFilter):
    """Open breaches, those with a deadline (notifying the authority, Part 2) within 24 hours, the overdue."""

    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return BreachDeadline.choices

    def queryset(self, request, queryset):
        return by_deadline(queryset, self.value()) if self.value() else queryset
