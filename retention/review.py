"""The DPO's review of flagged records: hold them, or let their erasure proceed.

Flagging starts a grace period (the rule's ``grace_days``) for exactly this review. Two decisions end it:
- ``flagged_records_hold``: a legal hold per record (``legal_hold_place``): never erased while it stands.
- ``flagged_records_release``: erasure approved now, so the next sweep erases without waiting for the rest
  of the grace period. It only moves ``erase_after`` forward; the sweep still re-checks, under its row
  lock, that the record is flagged, expired, unheld and that its rule erases. Each approval is written to
  the admin's log (who, when, which record), without personal data.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from subjects.choices import RecordStatus
from subjects.models import PersonalDataRecord

from . import engine
from .models import LegalHold
from .selectors import held_q
from .services import legal_hold_place

logger = logging.getLogger(__name__)

APPROVAL_MESSAGE = "Erasure approved in the review queue before the end of the grace period."


@dataclass(frozen=True)
class ReviewOutcome:
    done: int
    skipped: int


@transaction.atomic
def flagged_records_hold(*, records, reason: str, actor, now: dt.datetime | None = None) -> list[LegalHold]:
    """Place one legal hold on each record (all or none). ``records``: a queryset of flagged records."""
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why erasure is frozen."})
    return [
        legal_hold_place(record=record, reason=reason, actor=actor, now=now)
        for record in records.filter(status=RecordStatus.FLAGGED).exclude(held_q()).order_by("pk")
    ]


@transaction.atomic
def flagged_records_release(*, records, actor, now: dt.datetime | None = None) -> ReviewOutcome:
    """Let the erasure of flagged, unheld records with an erasing rule proceed at the next sweep.
    Records that are held, no longer flagged, or only flagged by a flag-only rule are skipped."""
    now = now or timezone.now()
    wanted = list(records.values_list("pk", flat=True))
    eligible = (
        PersonalDataRecord.objects.select_for_update(of=("self",))
        .filter(pk__in=wanted, status=RecordStatus.FLAGGED, expiry_rule__action__in=engine.ERASING_ACTIONS)
        .exclude(held_q())
    )
    ids = list(eligible.values_list("pk", flat=True))
    PersonalDataRecord.objects.filter(pk__in=ids, erase_after__gt=now).update(erase_after=now)
    content_type = ContentType.objects.get_for_model(PersonalDataRecord)
    LogEntry.objects.bulk_create(
        LogEntry(
            user_id=actor.pk,
            content_type=content_type,
            object_id=str(pk),
            object_repr=f"record {pk}",
            action_flag=CHANGE,
            change_message=APPROVAL_MESSAGE,
            action_time=now,
        )
        for pk in ids
    )
    logger.info("erasure approved for %d flagged record(s) by user %s", len(ids), actor.pk)
    return ReviewOutcome(done=len(ids), skipped=len(wanted) - len(ids))
