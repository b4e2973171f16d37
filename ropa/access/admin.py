"""Access on the user's page: the controllers a user is limited to and the user's language, as inlines."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .models import ControllerAccess, UserProfile
from .sessions import end_sessions_of_selected_users

User = get_user_model()


class ControllerAccessInline(admin.StackedInline):
    model = ControllerAccess
    can_delete = True
    extra = 0
    max_num = 1
    filter_horizontal = ("controllers",)
    verbose_name_plural = _("limited to these controllers (no entry: every controller)")


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False
    extra = 0
    max_num = 1
    fields = ("language",)


class RegisterUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, ControllerAccessInline, UserProfileInline]
    list_display = (*UserAdmin.list_display, "role_names", "limited")
    list_filter = (*UserAdmin.list_filter, ("controller_access", admin.EmptyFieldListFilter))
    actions = [end_sessions_of_selected_users]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups").select_related("controller_access")

    @admin.display(description=_("roles"))
    def role_names(self, obj):
        return ", ".join(group.name for group in obj.groups.all())

    @admin.display(description=_("limited to some controllers"), boolean=True)
    def limited(self, obj):
        return hasattr(obj, "controller_access")


admin.site.unregister(User)
admin.site.register(User, RegisterUserAdmin)
