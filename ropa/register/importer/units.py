"""Loading one entry of a file: written whole, left alone, or kept as the register has it (see below)."""

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Model
from django_countries.fields import Country

from processing.models import (
    LoadedEntry,
    ProcessingActivity,
)
from processing.services import activity_review_flag, activity_review_state
from retention.services import rule_changes
from ropa.kernel.writes import as_actor, assign, holds

from .report import KeptEntry, LoadReport


def _write_if_changed(instance, values: dict, reason: str, label: str, *, created: bool) -> bool:
    """Give ``instance`` the ``values``, validate and save it, unless it is stored and already holds them."""
    if not created and holds(instance, values):
        return False
    as_actor(assign(instance, values), reason=reason)
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise ValidationError({f"{label}.{field}": messages for field, messages in exc.message_dict.items()}) from None
    instance.save()
    return True


# Loading never overwrites a change made in the register silently. Each entry a file loads is one unit:
# a vocabulary entry, a controller, a recipient, or an activity with all its parts (purposes, quotes,
# linked codes and recipients, retention rules). What the loader last wrote into a unit is kept as a
# digest per field (``LoadedEntry``). At the next load a unit is
#   - created when the register does not have it, and left alone when it already matches the file;
#   - updated to the file when it still holds what was loaded (a new version of the file comes in);
#   - kept as the register has it, and listed, when it was changed there since it was loaded (a conflict
#     when the file changed too) or removed from it; ``force`` takes the file's values instead.
# A unit without a digest (loaded before digests were kept, or entered by hand under the same key)
# counts as changed in the register unless its history shows only the loader's writes. A unit is written
# whole or not at all: an activity kept as the DPO left it keeps every one of its parts.

LOADER_REASON = "import "
_PART = "present"


@dataclass
class Unit:
    """One entry a file loads, with everything stored under it, as the file wants it."""

    model: type
    lookup: dict
    values: dict
    kind: str
    key: str
    links: dict = field(default_factory=dict)  # m2m field -> (report kind, wanted keys, target objects)
    parts: dict = field(default_factory=dict)  # child relation -> (report kind, rows)
    check: Callable | None = None  # run on the entry once written

    def link(self, name: str, keys: list[str], targets: list, kind: str) -> None:
        self.links[name] = (kind, keys, targets)

    def child(self, name: str, rows: list[dict], kind: str) -> None:
        self.parts[name] = (kind, rows)

    @property
    def entry(self) -> str:
        return f"{self.model._meta.label_lower}:{self.key}"


@dataclass
class Load:
    report: LoadReport
    reason: str
    force: bool
    now: dt.datetime
    override_reason: str | None = None  # lets the load weaken statutory rules that still keep records


def _digest(value) -> str:
    """A short digest of a stored or loaded value; the same value gives the same digest on both sides."""
    if isinstance(value, Country):
        value = value.code
    elif isinstance(value, Model):
        value = getattr(value, "code", None) or value.pk
    elif isinstance(value, str):
        value = value.replace("\r\n", "\n")
    return hashlib.sha256(json.dumps(value, default=str).encode()).hexdigest()[:16]


def _link_key(obj) -> str:
    return getattr(obj, "code", None) or obj.key


def _wanted(unit: Unit) -> dict[str, str]:
    flat = {name: _digest(value) for name, value in unit.values.items()}
    for name, (_, keys, _) in unit.links.items():
        flat[name] = _digest(sorted(keys))
    for name, (_, rows) in unit.parts.items():
        for index, row in enumerate(rows):
            flat[f"{name}[{index}]"] = _PART
            flat.update({f"{name}[{index}].{k}": _digest(v) for k, v in row.items()})
    return flat


def _stored(instance, unit: Unit) -> dict[str, str]:
    flat = {name: _digest(getattr(instance, name)) for name in unit.values}
    for name in unit.links:
        flat[name] = _digest(sorted(_link_key(obj) for obj in getattr(instance, name).all()))
    for name, (_, rows) in unit.parts.items():
        fields = list(rows[0]) if rows else []
        manager = getattr(instance, name)
        related = [k for k in fields if manager.model._meta.get_field(k).is_relation]
        for index, part in enumerate(manager.select_related(*related).order_by("position", "id")):
            flat[f"{name}[{index}]"] = _PART
            flat.update({f"{name}[{index}].{k}": _digest(getattr(part, k)) for k in fields})
    return flat


def _differing(before: dict[str, str], after: dict[str, str]) -> tuple[str, ...]:
    """Field names whose digests differ. A part added or removed is named once (``purposes[2]``); a field
    only one side knows (one this version of the loader added) is no change."""
    names = {k for k in before.keys() | after.keys() if k.endswith("]") or (k in before and k in after)}
    changed = {k for k in names if before.get(k) != after.get(k)}
    parts = {k for k in changed if k.endswith("]")}
    return tuple(sorted(k for k in changed if k in parts or k.split(".", 1)[0] not in parts))


def _only_loaded(instance, unit: Unit) -> bool:
    """Whether the loader made the last change to the unit and to each of its parts, by their history."""
    latest = [instance.history.order_by("-history_date", "-history_id").first()]
    for name in unit.parts:
        manager = getattr(instance, name)
        rows = manager.model.history.filter(**{manager.field.name: instance.pk})
        last_per_part = {}
        for row in rows.order_by("id", "-history_date", "-history_id"):
            last_per_part.setdefault(row.id, row)
        latest += last_per_part.values()
    return all(row is None or (row.history_change_reason or "").startswith(LOADER_REASON) for row in latest)


def _remember(unit: Unit, instance, load: Load) -> None:
    """Keep what the unit now holds as what the file loaded. Set-based: bookkeeping, not register content."""
    values = {
        "object_id": instance.pk,
        "file": load.report.filename,
        "digests": _stored(instance, unit),
        "loaded_at": load.now,
    }
    if not LoadedEntry.objects.filter(entry=unit.entry).update(**values):
        LoadedEntry.objects.bulk_create([LoadedEntry(entry=unit.entry, **values)])


def load_unit(unit: Unit, load: Load):
    """Bring one unit in line with the file, unless the register changed it since it was loaded (see above).

    Returns the stored entry, or None when it was removed from the register and stays removed."""
    instance = unit.model.objects.filter(**unit.lookup).first()
    record = LoadedEntry.objects.filter(entry=unit.entry).first()
    if record is not None and instance is not None and record.object_id != instance.pk:
        record = None  # the key now names another entry, made in the register
    if instance is None and record is not None and not load.force:
        load.report.kept.append(KeptEntry(unit.kind, unit.key, KeptEntry.REMOVED))
        return None
    if instance is not None and _left_alone(unit, instance, record, load):
        return instance
    missing = tuple(name for name, (_, keys, targets) in unit.links.items() if len(targets) != len(set(keys)))
    if missing:
        load.report.kept.append(KeptEntry(unit.kind, unit.key, KeptEntry.MISSING, missing))
        return instance
    return _write_unit(unit, instance, load)


def _left_alone(unit: Unit, instance, record: LoadedEntry | None, load: Load) -> bool:
    """Whether a stored unit stays as it is: it already holds the file's values, or the register changed it
    since it was loaded and the load is not forced (then the report lists it as kept)."""
    report = load.report
    wanted, stored = _wanted(unit), _stored(instance, unit)
    if stored == wanted:
        if record is None or record.digests != stored or record.file != report.filename:
            _remember(unit, instance, load)
        report.unchanged += 1
        return True
    if record is not None:
        by_register, by_file = _differing(record.digests, stored), _differing(record.digests, wanted)
    else:
        by_register, by_file = not _only_loaded(instance, unit), True
    if by_register and not load.force:
        why = KeptEntry.CONFLICT if by_file else KeptEntry.CHANGED
        report.kept.append(KeptEntry(unit.kind, unit.key, why, _differing(stored, wanted)))
        return True
    return False


def _write_unit(unit: Unit, instance, load: Load):
    """Write the unit whole, creating it when ``instance`` is None; its links, then its parts."""
    report = load.report
    created = instance is None
    if created:
        instance = unit.model(**unit.lookup)
    # A new version of a file changing a loaded activity in a way that matters asks for a review; a first
    # load (the activity is new) does not.
    review_before = activity_review_state(instance) if isinstance(instance, ProcessingActivity) else None
    label = f"{unit.kind} {' '.join(str(v) for v in unit.lookup.values())}"
    changed = _write_if_changed(instance, unit.values, load.reason, label, created=created)
    report.count(unit.kind, created, changed and not created)
    as_actor(instance, reason=load.reason)  # also on the history rows its links write
    for name, (kind, _, targets) in unit.links.items():
        _sync_m2m(getattr(instance, name), targets, report, kind, owner_created=created)
    # An activity's rules change together: its records' expiry follows once, and the report lists whose
    # moved earlier; a statutory rule still keeping records is refused unless the load gives a reason.
    changes = None
    if isinstance(instance, ProcessingActivity):
        changes = rule_changes(activity_id=instance.pk, override_reason=load.override_reason)
    with changes or contextlib.nullcontext() as outcome:
        for name, (kind, rows) in unit.parts.items():
            _sync_children(getattr(instance, name), rows, report, kind, load.reason)
    if outcome is not None:
        report.retention += outcome.change
    if unit.check:
        unit.check(instance)
    if review_before is not None:
        activity_review_flag(activity=instance, before=review_before, reason=load.reason)
    _remember(unit, instance, load)
    return instance


def _sync_children(manager, rows: list[dict], report: LoadReport, kind: str, reason: str) -> None:
    """Make an ordered child list (purposes, quotes, rules) match ``rows``, keeping the ids of rows that stay."""
    existing = list(manager.order_by("position", "id"))
    for position, values in enumerate(rows):
        values = {**values, "position": position}
        created = position >= len(existing)
        instance = manager.model(**{manager.field.name: manager.instance}) if created else existing[position]
        changed = _write_if_changed(instance, values, reason, f"{kind}[{position}]", created=created)
        report.count(kind, created, changed and not created)
    for surplus in existing[len(rows) :]:
        as_actor(surplus, reason=reason)
        surplus.delete()
        report.count(kind, False, True)


def _sync_m2m(manager, targets: list, report: LoadReport, kind: str, *, owner_created: bool) -> None:
    if {obj.pk for obj in manager.all()} != {obj.pk for obj in targets}:
        manager.set(targets)
        if not owner_created:
            report.count(kind, False, True)
