"""Access on the user's page: the controllers a user is limited to and the user's language, as inlines.

What a user may grant here never exceeds what the user holds. Only a user limited to no controller changes
``ControllerAccess`` (a limited user's scope is fixed by someone who sees every controller: no row means
every controller, so deleting one would widen it too); only a superuser makes superusers; groups and
permissions are granted only by a user who holds every permission they carry. A limited user sees and edits
only the accounts within their controllers (``scope.users_within_q``), and changes no group: groups are
shared by every controller.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

from ropa.access.models import ControllerAccess, UserProfile
from ropa.access.scope import users_within_q, visible_controller_ids
from ropa.access.sessions import end_sessions_of_selected_users
from ropa.api.models import ApiToken

User = get_user_model()


def _is_limited(request) -> bool:
    return visible_controller_ids(request.user) is not None


class ControllerAccessInline(admin.StackedInline):
    model = ControllerAccess
    can_delete = True
    extra = 0
    max_num = 1
    filter_horizontal = ("controllers",)
    verbose_name_plural = _("limited to these controllers (no entry: every controller)")

    # A limited user reads their scope and anyone's in it, and changes none: not even by deleting the row.
    def has_add_permission(self, request, obj=None):
        return not _is_limited(request) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _is_limited(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _is_limited(request) and super().has_delete_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        return _is_limited(request) or super().has_view_permission(request, obj)


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False
    extra = 0
    max_num = 1
    fields = ("language",)


class GrantsNoMoreForm(forms.ModelForm):
    """Refuses groups and permissions whose every permission the editing user (``editor``, set by the admin)
    does not hold. Taking them away is always allowed; what the account already had stays."""

    editor = None

    def _refuse_beyond_editor(self, field: str, permissions) -> None:
        names = {f"{p.content_type.app_label}.{p.codename}" for p in permissions.select_related("content_type")}
        if not names <= self.editor.get_all_permissions():
            self.add_error(field, _("You can only grant permissions you hold yourself."))

    def clean(self):
        cleaned = super().clean()
        if self.editor is None or self.editor.is_superuser:
            return cleaned
        if "groups" in cleaned:
            added = cleaned["groups"].exclude(pk__in=self.instance.groups.values("pk"))
            self._refuse_beyond_editor("groups", Permission.objects.filter(group__in=added).distinct())
        if "user_permissions" in cleaned:
            added = cleaned["user_permissions"].exclude(pk__in=self.instance.user_permissions.values("pk"))
            self._refuse_beyond_editor("user_permissions", added)
        return cleaned


class RegisterUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, ControllerAccessInline, UserProfileInline]
    list_display = (*UserAdmin.list_display, "role_names", "limited")
    list_filter = (*UserAdmin.list_filter, ("controller_access", admin.EmptyFieldListFilter))
    actions = [end_sessions_of_selected_users]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).prefetch_related("groups").select_related("controller_access")
        within = users_within_q(request.user)
        return queryset if within is None else queryset.filter(within)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return readonly if request.user.is_superuser else (*readonly, "is_superuser")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None:
            return form
        # A fresh subclass per request: the editor is never left on the shared form class.
        return type(form.__name__, (GrantsNoMoreForm, form), {"editor": request.user})

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        ids = visible_controller_ids(request.user)
        if ids is not None and not hasattr(form.instance, "controller_access"):
            # An account a limited user creates is limited to the same controllers (without a row it would
            # see them all); a service account edited by one keeps to its tokens' controllers.
            tokens = ApiToken.objects.filter(user=form.instance).values_list("controller_ids_cache", flat=True)
            reach = {pk for controllers in tokens for pk in controllers} or ids
            ControllerAccess.objects.create(user=form.instance).controllers.set(sorted(reach))

    @admin.display(description=_("roles"))
    def role_names(self, obj):
        return ", ".join(group.name for group in obj.groups.all())

    @admin.display(description=_("limited to some controllers"), boolean=True)
    def limited(self, obj):
        return hasattr(obj, "controller_access")


class RegisterGroupAdmin(GroupAdmin):
    """Groups are shared by every controller's users: only a user limited to no controller changes them."""

    def has_add_permission(self, request):
        return not _is_limited(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return not _is_limited(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _is_limited(request) and super().has_delete_permission(request, obj)


admin.site.unregister(User)
admin.site.register(User, RegisterUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, RegisterGroupAdmin)

