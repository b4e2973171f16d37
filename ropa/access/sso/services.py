"""Writes what the identity provider grants: the user's role groups, staff flag and controller scope."""

from django.contrib.auth.models import Group
from django.db import transaction

from processing.models import Controller
from ropa.audit.context import Actor
from ropa.audit.models import AuditAction
from ropa.audit.services import audit_log

from ..groups import AUDITOR_GROUP, DPO_GROUP
from ..models import ControllerAccess
from .claims import SsoGrant

# The groups single sign-on manages; any other group a DPO gives an SSO user is left alone.
MANAGED_GROUPS = (DPO_GROUP, AUDITOR_GROUP)


def _access_snapshot(user) -> dict:
    access = ControllerAccess.objects.filter(user=user).first()
    return {
        "groups": sorted(user.groups.filter(name__in=MANAGED_GROUPS).values_list("name", flat=True)),
        "is_staff": user.is_staff,
        "controllers": None if access is None else sorted(access.controllers.values_list("key", flat=True)),
    }


@transaction.atomic
def sso_access_apply(*, user, grant: SsoGrant, provider_id: str, created: bool = False) -> None:
    """Make the user's DPO/Auditor membership exactly ``grant.groups``, staff exactly when it holds a role
    (a superuser stays staff), and, when the grant carries controllers, the controller scope exactly those
    (every controller: no scope at all). Audited as the IdP's doing, with role names and controller keys
    only, when anything changed."""
    before = None if created else _access_snapshot(user)
    managed = Group.objects.filter(name__in=MANAGED_GROUPS)
    user.groups.remove(*managed.exclude(name__in=grant.groups))
    user.groups.add(*managed.filter(name__in=grant.groups))
    is_staff = bool(grant.groups) or user.is_superuser
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])
    if grant.all_controllers:
        ControllerAccess.objects.filter(user=user).delete()
    elif grant.controllers is not None:
        access, _ = ControllerAccess.objects.get_or_create(user=user)
        access.controllers.set(Controller.objects.filter(key__in=grant.controllers))
    after = _access_snapshot(user)
    if after == before:
        return
    changed = sorted(name for name in after if before is None or before[name] != after[name])
    audit_log(
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type="auth.user",
        object_id=user.pk,
        object_repr=user.get_username(),
        changed_fields=changed,
        changes={name: [None if before is None else before[name], after[name]] for name in changed},
        actor=Actor(label=f"sso:{provider_id}"),
    )
