"""Writes to the register. The admin, the API, the importer and commands all go through these.

Each service validates with the pure rules, runs in one transaction and records who made the change
in the version history.
"""

import datetime as dt

from django.db import transaction

from ropa.kernel.writes import as_actor

from . import rules
from .choices import ActivityStatus
from .models import Controller, DataCategory, ProcessingActivity, Recipient


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
