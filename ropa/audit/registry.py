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

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.utils.module_loading import autodiscover_modules


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


def bind() -> list[tuple[type, Audited]]:
    """Find every app's ``audited`` module and resolve its labels to models (once the apps are ready)."""
    autodiscover_modules("audited")
    for spec in AUDITED:
        _by_model[apps.get_model(spec.label)] = spec
    return list(_by_model.items())
