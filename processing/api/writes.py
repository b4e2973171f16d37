"""Writes the API needs beyond ``processing.services``: a whole nested activity in one transaction, and
vocabulary entries. Each calls the register's services and model validation, audits the actor in the
version history, and writes nothing unless everything validates.

TODO(register): these belong in ``processing/services.py``; they live here until that module grows
``vocabulary_save`` and ``processing_activity_save_nested`` of its own.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from processing.models import ProcessingActivity, Purpose, Source
from processing.services import processing_activity_save
from ropa.kernel.writes import as_actor, assign, error_list, holds

NESTED = ("purposes", "data_subject_categories", "data_categories", "recipients", "security_measures", "sources")


@transaction.atomic
def vocabulary_save(*, entry, actor=None, reason: str | None = None):
    """Validate and save a vocabulary entry (data-subject category, data category, security measure)."""
    entry.full_clean()
    as_actor(entry, actor, reason)
    entry.save()
    return entry


@transaction.atomic
def processing_activity_write(
    *, activity: ProcessingActivity | None, data: dict, actor=None, reason: str = "api"
) -> ProcessingActivity:
    """Create or update an activity with its nested lists. Lists present in ``data`` replace the stored
    ones; absent lists are left alone. The activity itself goes through ``processing_activity_save``
    (model validation and the Art. 30 rules)."""
    data = dict(data)
    nested = {name: data.pop(name) for name in NESTED if name in data}
    activity = assign(activity or ProcessingActivity(), data)
    processing_activity_save(
        activity=activity, actor=actor, data_categories=nested.get("data_categories"), reason=reason
    )
    for name in ("data_subject_categories", "recipients", "security_measures"):
        if name in nested:
            getattr(activity, name).set(nested[name])
    if "purposes" in nested:
        _sync_ordered(activity, activity.purposes, Purpose, nested["purposes"], "purposes", actor, reason)
    if "sources" in nested:
        _sync_ordered(activity, activity.sources, Source, nested["sources"], "sources", actor, reason)
    return activity


def _sync_ordered(activity, manager, model, rows: list[dict], label: str, actor, reason) -> None:
    """Make an ordered child list match ``rows``, keeping the rows (and ids) at positions that stay."""
    existing = list(manager.order_by("position", "id"))
    errors: dict[int, dict] = {}
    for position, values in enumerate(rows):
        instance = existing[position] if position < len(existing) else model(activity=activity)
        values = {**values, "position": position}
        if holds(instance, values):
            continue
        assign(instance, values)
        try:
            instance.full_clean()
        except ValidationError as exc:
            errors[position] = exc.message_dict
            continue
        as_actor(instance, actor, reason)
        instance.save()
    if errors:
        raise ValidationError({label: [error_list(errors, len(rows))]})
    for surplus in existing[len(rows) :]:
        as_actor(surplus, actor, reason)
        surplus.delete()


__all__ = ["NESTED", "processing_activity_write", "vocabulary_save"]
