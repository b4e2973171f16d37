"""Which models are audited, and how.

Why not django-auditlog or simple-history's tables: both were weighed. simple-history already versions
the register models, but not legal holds, API tokens or runs, and it copies whole rows, which must
never happen for personal-data models. django-auditlog registers models the same way as here and has
actor middleware, but its actions are four fixed integers (no "hold placed", "token revoked",
"erasure"), its actor is always a user (not an API token or a named command), its masking keeps part
of each value where personal-data models must keep field names only, and its signal-driven deletes
would add per-row signals to record tables, which the retention sweep deliberately avoids. What is
left to write is small: one table, one registration list, a context for the actor.

Adding a model is one ``Audited(...)`` in its app's ``audited`` module (``register``);
``values=False`` keeps field names only; ``controller``
names the way to the object's controller, which each event keeps so that a user limited to some
controllers reads only theirs.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils.module_loading import autodiscover_modules

from .models import AuditAction


@dataclass(frozen=True)
class Audited:
    """How one model is audited.

    ``values``: True keeps old and new values of every field, False only the names of the changed fields
    (personal-data models), a set keeps values of those fields only. ``show``: False writes "Model #id"
    instead of ``str(obj)`` (whose text may name a person). ``ignore``: fields never listed at all.
    ``verb``: names the action from (created, changed fields, instance); None skips the save.
    ``id_field``: what identifies the object (an API token's key is its digest: its lookup key is used).
    ``controller``: lookups to the object's controller, as the admin's ``controller_paths`` (the first one
    set wins; ``"pk"`` for a controller), or a function of the instance; empty: no controller.
    """

    label: str
    values: bool | frozenset[str] = True
    show: bool = True
    ignore: frozenset[str] = field(default_factory=frozenset)
    verb: Callable | None = None
    id_field: str = "pk"
    controller: tuple[str, ...] | Callable = ()


TIMESTAMPS = frozenset({"created_at", "updated_at"})

AUDITED: list[Audited] = []


def register(*specs: Audited) -> None:
    """Audit these models: each app declares its own in its ``audited`` module, found at start-up."""
    AUDITED.extend(specs)


_by_model: dict[type, Audited] = {}


def audited(model) -> Audited | None:
    return _by_model.get(model)


def _json(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


def _follow(instance, path: str):
    """The controller id at the end of ``path`` (``activity__controller``), read through foreign keys; None
    where the way is blank or leads to a row that no longer exists (an erased subject of a hold)."""
    *hops, last = path.split("__")
    obj = instance
    try:
        for hop in hops:
            obj = getattr(obj, hop)
            if obj is None:
                return None
    except ObjectDoesNotExist:
        return None
    return obj.pk if last == "pk" else getattr(obj, obj._meta.get_field(last).attname)


def controller_of(instance) -> int | None:
    """The id of the one controller ``instance`` belongs to, None if it belongs to no single one."""
    spec = _by_model.get(type(instance))
    if spec is None:
        return None
    if callable(spec.controller):
        return spec.controller(instance)
    for path in spec.controller:
        controller_id = _follow(instance, path)
        if controller_id is not None:
            return controller_id
    return None


def _snapshot(spec: Audited, instance) -> dict:
    return {
        f.name: f.value_from_object(instance)
        for f in instance._meta.concrete_fields
        if f.name not in spec.ignore and not f.primary_key
    }


def _keeps_value(spec: Audited, name: str) -> bool:
    return spec.values is True or (not isinstance(spec.values, bool) and name in spec.values)


def _diff(spec: Audited, old: dict | None, new: dict) -> tuple[list[str], dict]:
    changed = sorted(name for name, value in new.items() if old is None or old.get(name) != value)
    values = {
        name: [_json(old.get(name)) if old else None, _json(new[name])] for name in changed if _keeps_value(spec, name)
    }
    return changed, values


def _repr(spec: Audited, instance) -> str:
    if spec.show:
        return str(instance)[:200]
    return f"{instance._meta.verbose_name} #{getattr(instance, spec.id_field)}"[:200]


def _on_pre_save(sender, instance, raw=False, **kwargs):
    spec = _by_model.get(sender)
    if spec is None or raw or instance.pk is None:
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_old = _snapshot(spec, old) if old is not None else None


def _on_post_save(sender, instance, created, raw=False, **kwargs):
    spec = _by_model.get(sender)
    if spec is None or raw:
        return
    old = None if created else instance.__dict__.pop("_audit_old", None)
    changed, values = _diff(spec, old, _snapshot(spec, instance))
    if not created and not changed:
        return
    verb = spec.verb(created, changed, instance) if spec.verb else None
    if spec.verb and verb is None:
        return
    from .services import audit_log

    audit_log(
        action=verb or (AuditAction.CREATE if created else AuditAction.UPDATE),
        obj=instance,
        object_id=getattr(instance, spec.id_field),
        object_repr=_repr(spec, instance),
        changed_fields=changed,
        changes=values,
    )


def _on_post_delete(sender, instance, **kwargs):
    spec = _by_model.get(sender)
    if spec is None:
        return
    from .services import audit_log

    # What was removed, as the values of its fields were (where they are kept): [old, None].
    old = _snapshot(spec, instance)
    audit_log(
        action=AuditAction.DELETE,
        obj=instance,
        object_id=getattr(instance, spec.id_field),
        object_repr=_repr(spec, instance),
        changes={name: [_json(value), None] for name, value in sorted(old.items()) if _keeps_value(spec, name)},
    )


def _m2m_handler(spec: Audited, field_name: str):
    def handler(sender, instance, action, pk_set=None, reverse=False, **kwargs):
        if reverse or action not in ("post_add", "post_remove", "post_clear"):
            return
        from .services import audit_log

        values = {}
        if _keeps_value(spec, field_name):
            values = {field_name: {action.removeprefix("post_"): sorted(pk_set or [])}}
        audit_log(
            action=AuditAction.UPDATE,
            obj=instance,
            object_id=getattr(instance, spec.id_field),
            object_repr=_repr(spec, instance),
            changed_fields=[field_name],
            changes=values,
        )

    return handler


_m2m_handlers = []  # signals hold receivers weakly


def connect_all() -> None:
    autodiscover_modules("audited")
    for spec in AUDITED:
        model = apps.get_model(spec.label)
        _by_model[model] = spec
        uid = f"audit:{spec.label}"
        pre_save.connect(_on_pre_save, sender=model, dispatch_uid=f"{uid}:pre_save")
        post_save.connect(_on_post_save, sender=model, dispatch_uid=f"{uid}:post_save")
        post_delete.connect(_on_post_delete, sender=model, dispatch_uid=f"{uid}:post_delete")
        for m2m in model._meta.many_to_many:
            if m2m.name in spec.ignore:
                continue
            handler = _m2m_handler(spec, m2m.name)
            _m2m_handlers.append(handler)
            m2m_changed.connect(handler, sender=m2m.remote_field.through, dispatch_uid=f"{uid}:{m2m.name}")
