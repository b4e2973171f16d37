"""django-allauth's models in the admin, narrowed to what the register's roles need.

- Authenticators: a DPO sees who has which second factor and removes the authenticator of a user who lost it
  (that user enrols again at the next login, and every session of theirs ends). Nobody adds or edits one
  here, and the stored secret is never shown; a user limited to some controllers sees the accounts within
  them only and removes nothing.
- Sessions: a DPO sees every user's sessions (address, browser, last seen) and ends one by deleting it, which
  logs that browser out (the Django session goes too), as the user's own page does; no edits.
- Single sign-on is configured by environment variables only: no identity provider is added in the admin
  (``SocialApp``), and the IdP's tokens are not stored (``SocialToken``).
"""

from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialApp, SocialToken
from allauth.usersessions.models import UserSession
from django.contrib import admin

from ropa.access.scope import users_within_q, visible_controller_ids
from ropa.access.sessions import audit_sessions_ended, sessions_end
from ropa.audit.models import AuditAction
from ropa.audit.services import audit_log

admin.site.unregister(SocialApp)
admin.site.unregister(SocialToken)
admin.site.unregister(Authenticator)
admin.site.unregister(UserSession)


class _UsersWithinScopeAdmin(admin.ModelAdmin):
    """Rows of a user, shown for the accounts within the viewer's controllers; nobody adds or edits one, and
    only a user limited to no controller deletes."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        within = users_within_q(request.user)
        return queryset if within is None else queryset.filter(user__in=type(request.user).objects.filter(within))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return visible_controller_ids(request.user) is None and super().has_delete_permission(request, obj)


@admin.register(Authenticator)
class AuthenticatorAdmin(_UsersWithinScopeAdmin):
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    search_fields = ("user__username",)
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields
    list_select_related = ("user",)

    def delete_model(self, request, obj):
        self.delete_queryset(request, Authenticator.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        removed = list(queryset.select_related("user"))
        queryset.delete()
        for authenticator in removed:
            sessions_end(authenticator.user)
            audit_log(
                action=AuditAction.UPDATE,
                obj=authenticator.user,
                object_repr=authenticator.user.get_username(),
                changed_fields=["authenticator"],
                changes={"authenticator": [authenticator.get_type_display(), None]},
            )


@admin.register(UserSession)
class UserSessionAdmin(_UsersWithinScopeAdmin):
    list_display = ("user", "ip", "user_agent", "created_at", "last_seen_at")
    search_fields = ("user__username",)
    fields = ("user", "ip", "user_agent", "created_at", "last_seen_at")
    readonly_fields = fields
    list_select_related = ("user",)

    def delete_model(self, request, obj):
        self.delete_queryset(request, UserSession.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        for user_session in queryset.select_related("user"):
            user_session.end()  # the Django session too: that browser is logged out
            audit_sessions_ended(user_session.user, 1)
