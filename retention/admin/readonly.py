"""The admin of read-only evidence (runs, tombstones, the erasure feed, review decisions): seen in the
user's controller scope, never added, changed or deleted."""

from django.contrib import admin

from ropa.access.admin_mixins import ControllerScopedAdminMixin


class ReadOnlyAdmin(ControllerScopedAdminMixin, admin.ModelAdmin):
    """Evidence: nobody adds, changes or deletes it by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
