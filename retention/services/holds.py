"""Legal holds: placing one waits for every sweep batch and erasure in progress (``HOLD_LOCK_KEY``
exclusive), so once it has returned nothing it covers can still be erased; releasing it lets the next
sweep take what it kept."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from processing.models import Controller, ProcessingActivity
from subjects.models import (
    DataSubject,
    PersonalDataRecord,
)

from ..locks import HOLD_LOCK_KEY, advisory_xact_lock
from ..models import LegalHold

logger = logging.getLogger(__name__)


@transaction.atomic
def legal_hold_place(
    *,
    reason: str,
    actor,
    subject: DataSubject | None = None,
    record: PersonalDataRecord | None = None,
    activity: ProcessingActivity | None = None,
    controller: Controller | None = None,
    now: dt.datetime | None = None,
) -> LegalHold:
    """Freeze erasure of everything in one scope (a subject, a record, an activity or a controller) until
    released. Waits for sweep batches in flight; none that starts after it can erase what it holds."""
    scopes = {"subject": subject, "record": record, "activity": activity, "controller": controller}
    given = {name: value for name, value in scopes.items() if value is not None}
    if len(given) != 1:
        raise ValidationError("A legal hold covers exactly one subject, record, activity or controller.")
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why erasure is frozen."})
    advisory_xact_lock(HOLD_LOCK_KEY)
    hold = LegalHold(**given, reason=reason.strip(), placed_by=actor, placed_at=now or timezone.now())
    hold.full_clean()
    hold.save()
    logger.info("legal hold %s placed on %s", hold.pk, hold.scope_label())
    return hold


@transaction.atomic
def legal_hold_release(*, hold: LegalHold, actor, reason: str = "", now: dt.datetime | None = None) -> LegalHold:
    """Lift a hold; the next sweep takes what it held (a hold already released stays as it was)."""
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is None:
        hold.released_at, hold.released_by, hold.release_reason = now or timezone.now(), actor, reason.strip()
        hold.save(update_fields=["released_at", "released_by", "release_reason"])
        logger.info("legal hold %s released", hold.pk)
    return hold
