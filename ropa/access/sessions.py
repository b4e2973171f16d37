"""Ending a user's sessions when their credentials change, so a stolen session does not outlive a reset.

Sessions are ended through allauth.usersessions' own ``UserSession.end()``: it deletes the Django session and
the record the user sees at /accounts/sessions/.
"""

from allauth.core import context
from allauth.mfa import signals as mfa_signals
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext_lazy as _

from ropa.audit.models import AuditAction
from ropa.audit.services import audit_log

from .scope import visible_controller_ids


def sessions_end(user, *, keep=None) -> int:
    """End every session of ``user`` except the one whose key is ``keep``; returns how many were ended."""
    ended = 0
    for user_session in UserSession.objects.filter(user_id=user.pk).exclude(session_key=keep or ""):
        user_session.end()
        ended += 1
    return ended


def audit_sessions_ended(user, ended: int) -> None:
    """An audit event for ``ended`` sessions of ``user`` ended by someone else, by username only."""
    audit_log(
        action=AuditAction.UPDATE,
        obj=user,
        object_repr=user.get_username(),
        changed_fields=["sessions"],
        changes={"sessions": [ended, 0]},
    )


def _current_session_key():
    """The key of the session making the change (allauth's request context), kept so the user stays in."""
    request = context.request
    session = getattr(request, "session", None)
    return session.session_key if session is not None else None


def _remember_password_change(sender, instance, **kwargs):
    """Before a save, note whether the stored password hash differs (own change, reset, or the admin)."""
    if instance.pk is None:
        instance._ropa_password_changed = False
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._ropa_password_changed = stored is not None and stored != instance.password


def _end_sessions_after_password_change(sender, instance, created, **kwargs):
    if not created and getattr(instance, "_ropa_password_changed", False):
        instance._ropa_password_changed = False
        sessions_end(instance, keep=_current_session_key())


def _end_sessions_after_mfa_change(sender, request, user, **kwargs):
    """A second factor added, removed or reset: other sessions must log in again with the new factors."""
    keep = request.session.session_key if request is not None and hasattr(request, "session") else None
    sessions_end(user, keep=keep)


def connect():
    """Connect the receivers (called from ``AccessConfig.ready``)."""
    user_model = get_user_model()
    pre_save.connect(_remember_password_change, sender=user_model, dispatch_uid="ropa.access.password_before")
    post_save.connect(_end_sessions_after_password_change, sender=user_model, dispatch_uid="ropa.access.password_after")
    for name in ("authenticator_added", "authenticator_removed", "authenticator_reset"):
        getattr(mfa_signals, name).connect(_end_sessions_after_mfa_change, dispatch_uid=f"ropa.access.{name}")


@admin.action(description=_("End all sessions of the selected users"), permissions=["change"])
def end_sessions_of_selected_users(modeladmin, request, queryset):
    """The user list's action for an unscoped DPO: each selected user must log in again everywhere."""
    if visible_controller_ids(request.user) is not None:
        raise PermissionDenied
    for user in queryset:
        audit_sessions_ended(user, sessions_end(user, keep=request.session.session_key))
    modeladmin.message_user(request, _("Sessions ended."))
