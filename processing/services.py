"""Writes to the register. The admin, the API (a nested activity in one transaction, vocabulary entries), the
importer and commands all go through these.

Each service validates with the pure rules, runs in one transaction and records who made the change
in the version history.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ropa.kernel.writes import as_actor, assign, error_list, holds

from . import rules
from .choices import ActivityStatus
from .models import Controller, DataCategory, ProcessingActivity, Purpose, Recipient, Source


@transaction.atomic
def controller_save(*, controller: Controller, actor=None, reason: str | None = None) -> Controller:
    """Validate and save a controller. Audited in its history."""
    controller.full_clean()
    as_actor(controller, actor, reason)
    controller.save()
    return controller


@transaction.atomic
def recipient_save(*, recipient: Recipient, actor=None, reason: str | None = None) -> Recipient:
    """Validate and save a recipient; a third-country recipient needs a transfer safeguard."""
    recipient.full_clean()
    as_actor(recipient, actor, reason)
    recipient.save()
    return recipient


def special_category_codes(data_categories) -> list[str]:
    return sorted(category.code for category in data_categories if category.special_category)


@transaction.atomic
def processing_activity_save(
    *,
    activity: ProcessingActivity,
    actor=None,
    data_categories: list[DataCategory] | None = None,
    reason: str | None = None,
) -> ProcessingActivity:
    """Validate and save an activity. ``data_categories`` are the categories it will hold after the save
    (read from the database when not given), checked for an Art. 9(2) condition."""
    activity.full_clean()
    if data_categories is None and activity.pk:
        data_categories = list(activity.data_categories.all())
    rules.raise_problems(activity.problems(special_categories=special_category_codes(data_categories or [])))
    as_actor(activity, actor, reason)
    activity.save()
    if data_categories is not None:
        activity.data_categories.set(data_categories)
    return activity


@transaction.atomic
def processing_activity_end(
    *, activity: ProcessingActivity, ended_on: dt.date, replaced_by: ProcessingActivity | None = None, actor=None
) -> ProcessingActivity:
    """End an activity: it stays in the register, with its end date and successor (never destroyed)."""
    activity.status = ActivityStatus.ENDED
    activity.ended_on = ended_on
    activity.replaced_by = replaced_by
    return processing_activity_save(activity=activity, actor=actor, reason="ended")


# The lists an activity written whole (``processing_activity_write``) may carry.
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


def _moved(model, stated: int, instance) -> str:
    """Why a row naming ``stated`` cannot stand where ``instance`` is (or a new row would be)."""
    values = {"name": model._meta.verbose_name, "id": stated, "other": instance.pk}
    if instance.pk is None:
        return _("No %(name)s %(id)s at this place: add a new one at the end, without an id.") % values
    return _("At this place stands %(name)s %(other)s, not %(id)s: send the rows in the order they were read.") % values


def _sync_ordered(activity, manager, model, rows: list[dict], label: str, actor, reason) -> None:
    """Make an ordered child list match ``rows``, keeping the rows (and ids) at positions that stay."""
    existing = list(manager.order_by("position", "id"))
    errors: dict[int, dict] = {}
    for position, values in enumerate(rows):
        instance = existing[position] if position < len(existing) else model(activity=activity)
        values = {**values, "position": position}
        stated = values.pop("id", None)
        if stated is not None and stated != instance.pk:
            errors[position] = {"id": [_moved(model, stated, instance)]}
            continue
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
