"""The audit trail in the admin: read-only for everyone, superusers included; filter and export as CSV.

A user limited to some controllers reads only the events about their objects (``AuditEvent.about_controllers``):
the list, each event's page, the filters' choices and the export all start from ``get_queryset``."""

import io

from django.apps import apps
from django.contrib import admin
from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from ropa.access.scope import visible_controller_ids
from ropa.audit.exports import write_csv
from ropa.audit.models import AuditEvent
from ropa.kernel.html import shortened


def _type_name(object_type: str) -> str:
    """``retention.retentionrun`` as the model names itself (in the user's language), else as it is."""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


class ActorFilter(admin.SimpleListFilter):
    title = _("actor")
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        events = model_admin.get_queryset(request)
        actors = events.order_by("actor").values_list("actor", flat=True).distinct()[:200]
        return [(actor, actor) for actor in actors]

    def queryset(self, request, queryset):
        return queryset.filter(actor=self.value()) if self.value() else queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    title = _("object type")
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        events = model_admin.get_queryset(request)
        types = events.order_by("object_type").values_list("object_type", flat=True).distinct()
        return sorted(((t, capfirst(_type_name(t))) for t in types), key=lambda pair: str(pair[1]).casefold())

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    # The object as a DPO names it ("retention run #4: run 2026-12-04 02:30 (finished)"), cut to fit 1400 px.
    list_display = ("at", "actor", "action", "object_short", "changed")
    list_filter = (ActorFilter, "action", ObjectTypeFilter, "at")
    search_fields = ("actor", "object_id", "object_repr")
    date_hierarchy = "at"
    actions = ["export_csv"]
    list_per_page = 100
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).about_controllers(visible_controller_ids(request.user))

    @admin.display(description=_("object"), ordering="object_type")
    def object_short(self, obj):
        return shortened(f"{_type_name(obj.object_type)} #{obj.object_id}: {obj.object_repr}", 50)

    @admin.display(description=_("changed fields"))
    def changed(self, obj):
        return shortened(", ".join(obj.changed_fields), 30)

    @admin.action(description=_("Export the selected events as CSV"))
    def export_csv(self, request, queryset):
        out = io.StringIO()
        write_csv(queryset, out)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{timezone.localdate():%Y%m%d}.csv"'
        return response

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
