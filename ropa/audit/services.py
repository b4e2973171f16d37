"""Writing audit events. Saves and deletes of audited models (``registry``) arrive here through ``signals``; code that
does something else worth recording (an erasure, a request answered) calls ``audit_log`` itself."""

from django.utils import timezone

from .context import Actor, current_actor
from .models import AuditEvent
from .registry import controller_of


def audit_log(
    *,
    action: str,
    obj=None,
    object_type: str | None = None,
    object_id=None,
    object_repr: str | None = None,
    changed_fields: list[str] | None = None,
    changes: dict | None = None,
    actor: Actor | None = None,
    at=None,
) -> AuditEvent:
    """Write one event. ``obj`` gives type, id, controller (``registry.controller_of``) and (unless
    ``object_repr`` is given) ``str(obj)``; pass ``object_repr`` for anything whose text may hold personal
    data. Runs in the caller's transaction, so an event is kept exactly when what it records is."""
    actor = actor or current_actor()
    controller_id = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
        object_repr = object_repr if object_repr is not None else str(obj)
        controller_id = controller_of(obj)
    user = actor.user if getattr(actor.user, "pk", None) else None
    return AuditEvent.objects.create(
        at=at or timezone.now(),
        actor_user=user,
        controller_id=controller_id,
        actor_token=actor.token_key,
        actor=actor.label[:200],
        action=action,
        object_type=object_type or "",
        object_id=str(object_id if object_id is not None else "")[:64],
        object_repr=(object_repr or "")[:200],
        changed_fields=list(changed_fields or []),
        changes=changes or {},
    )
