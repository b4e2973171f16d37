"""Writes to the register. The admin, the API (a nested activity in one transaction, vocabulary entries), the
importer and commands all go through these.

Each service validates with the pure rules, runs in one transaction and records who made the change
in the version history.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ropa.kernel.mail import dpo_link, dpo_mail
from ropa.kernel.writes import FROM_CONTEXT, as_actor, assign, error_list, holds

from . import rules
from .choices import REVIEW_DUE_DAYS, ActivityStatus, ReviewStatus
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
    before = activity_review_state(activity) if activity is not None else None
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
    activity_review_flag(activity=activity, before=before, actor=actor, reason=reason)
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


# --- Review cadence ------------------------------------------------------------------------------------


def activity_review_state(activity: ProcessingActivity | None) -> dict | None:
    """What of a stored activity a review depends on (``rules.activity_review_triggers``), read from the
    database: take it before a write, compare after. None for an activity not stored yet."""
    if activity is None or activity.pk is None:
        return None
    through = ProcessingActivity.recipients.through.objects.filter(processingactivity_id=activity.pk)
    categories = ProcessingActivity.data_categories.through.objects.filter(processingactivity_id=activity.pk)
    flagged = categories.filter(datacategory__special_category=True) | categories.filter(datacategory__criminal=True)
    special, criminal = {}, {}
    for code, name, is_special, is_criminal in flagged.values_list(
        "datacategory__code", "datacategory__name", "datacategory__special_category", "datacategory__criminal"
    ):
        if is_special:
            special[code] = name
        if is_criminal:
            criminal[code] = name
    return {
        "recipients_outside_eea": {
            pk: (name, kind)
            for pk, name, kind in through.filter(recipient__inside_eea=False).values_list(
                "recipient_id", "recipient__name", "recipient__kind"
            )
        },
        "special_categories": special,
        "criminal_categories": criminal,
        "purposes": {
            pk: (description, basis)
            for pk, description, basis in Purpose.objects.filter(activity_id=activity.pk).values_list(
                "pk", "description", "legal_basis"
            )
        },
    }


@transaction.atomic
def activity_review_flag(
    *, activity: ProcessingActivity, before: dict | None, actor=FROM_CONTEXT, reason: str | None = None, today=None
) -> list[str]:
    """The one place a change that matters marks an activity review-needed. Call it once a write is complete
    (its lists and inlines saved) with the state ``activity_review_state`` read before the write; returns the
    reasons found (none: nothing is written). Reasons add to those still waiting for a review."""
    reasons = rules.activity_review_triggers(before, activity_review_state(activity))
    if not reasons:
        return []
    waiting = [line for line in activity.review_needed_reason.splitlines() if line.strip()]
    activity.review_needed_reason = "\n".join(dict.fromkeys([*waiting, *reasons]))
    activity.review_needed_since = activity.review_needed_since or today or timezone.localdate()
    as_actor(activity, actor, reason or "review needed")
    activity.save(update_fields=["review_needed_reason", "review_needed_since", "updated_at"])
    return reasons


@transaction.atomic
def activity_mark_reviewed(*, activity: ProcessingActivity, actor, today: dt.date | None = None) -> ProcessingActivity:
    """The DPO reviewed the entry: its review date is today and what asked for a review is cleared. Saved
    through ``processing_activity_save`` (validated, its history names ``actor``, the audit trail the fields)."""
    activity.last_reviewed_on = today or timezone.localdate()
    activity.review_needed_reason = ""
    activity.review_needed_since = None
    return processing_activity_save(activity=activity, actor=actor, reason="reviewed")


REVIEW_ATTENTION = (ReviewStatus.NEEDED, ReviewStatus.OVERDUE, ReviewStatus.DUE)


def activity_review_remind(*, today: dt.date | None = None) -> dict[str, list[int]]:
    """Mail the DPO, once, the active activities whose review is needed, overdue or due within
    ``REVIEW_DUE_DAYS`` days: controller, reference and name with a link, nothing else. Returns the ids per
    status (all empty: no mail)."""
    today = today or timezone.localdate()
    statuses = ProcessingActivity.objects.review_statuses(today)
    result = {status.value: sorted(pk for pk, s in statuses.items() if s == status) for status in REVIEW_ATTENTION}
    wanted = [pk for ids in result.values() for pk in ids]
    if not settings.ROPA_DPO_EMAILS or not wanted:
        return result
    activities = {
        a.pk: a
        for a in ProcessingActivity.objects.filter(pk__in=wanted)
        .select_related("controller")
        .only("pk", "reference", "name", "controller__key")
    }

    def line(pk: int) -> str:
        a = activities[pk]
        link = dpo_link(reverse("admin:processing_processingactivity_change", args=[pk]))
        return f"  {a.controller.key} {a.reference} {a.name}: {link}"

    titles = {
        ReviewStatus.NEEDED: "Review needed after a change that matters",
        ReviewStatus.OVERDUE: "Review overdue (or never reviewed)",
        ReviewStatus.DUE: f"Review due within {REVIEW_DUE_DAYS} days",
    }
    changelist = dpo_link(reverse("admin:processing_processingactivity_changelist"))
    counts = ", ".join(f"{len(result[s])} {s}" for s in REVIEW_ATTENTION)
    lines = [f"Processing activities to review on {today.isoformat()}: {counts}.", ""]
    for status in REVIEW_ATTENTION:
        ids = sorted(result[status], key=lambda pk: (activities[pk].controller.key, activities[pk].reference))
        lines += [f"{titles[status]}:" if ids else f"{titles[status]}: none", *(line(pk) for pk in ids), ""]
    lines.append(f"All activities to review: {changelist}?review=todo")
    dpo_mail(subject=f"processing activities to review: {counts}", lines=lines)
    return result
