"""The signal receivers that turn saves and deletes of audited models (``registry``) into audit events."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from .models import AuditAction
from .registry import Audited, audited, bind
from .services import audit_log


def _json(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


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
    spec = audited(sender)
    if spec is None or raw or instance.pk is None:
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    instance._audit_old = _snapshot(spec, old) if old is not None else None


def _on_post_save(sender, instance, created, raw=False, **kwargs):
    spec = audited(sender)
    if spec is None or raw:
        return
    old = None if created else instance.__dict__.pop("_audit_old", None)
    changed, values = _diff(spec, old, _snapshot(spec, instance))
    if not created and not changed:
        return
    verb = spec.verb(created, changed, instance) if spec.verb else None
    if spec.verb and verb is None:
        return

    audit_log(
        action=verb or (AuditAction.CREATE if created else AuditAction.UPDATE),
        obj=instance,
        object_id=getattr(instance, spec.id_field),
        object_repr=_repr(spec, instance),
        changed_fields=changed,
        changes=values,
    )


def _on_post_delete(sender, instance, **kwargs):
    spec = audited(sender)
    if spec is None:
        return

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
    for model, spec in bind():
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
