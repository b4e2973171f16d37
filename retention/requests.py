"""Executing what a data subject asks of their records (Art. 7(3), 15-21 GDPR): withdrawing a consent and
completing a request. Here, not in ``subjects``, because it changes records through retention (retention
sits above subjects): a withdrawal or an objection sets a trigger date and recomputes the expiry
(``records_trigger_date_set``), an erasure request erases through the sweep's own eraser
(``subject_records_erase``), so holds, statutory minima, tombstones and the erasure feed are the same
whichever path erases. The request's own bookkeeping (receiving, verifying, events) is ``subjects.services``.

How the types are executed (``dsr_complete``):
- access, portability: nothing changes; the package (``subjects.selectors.subject_package_zip``) is the answer.
- erasure: every record of the subject, except those a legal hold or a running statutory minimum keeps;
  when nothing is kept, the subject is forgotten, else the outcome says what keeps it (``subject``).
- restriction: ``restricted_at`` on the subject's records (all, or the ones named); the DPO lifts it.
- objection (direct marketing): records under the controller's marketing activities get
  ``consent_withdrawn_on`` and ``relevance_ended_on`` set, so their expiry moves.
- consent withdrawal: every consent in force of the subject is withdrawn (``consent_withdraw``).
- rectification: the names of the fields rectified are recorded; the source systems hold the values.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from subjects import rules
from subjects.choices import RecordStatus, RequestEventKind, RequestStatus, RequestType
from subjects.models import ConsentRecord, DataSubjectRequest, PersonalDataRecord
from subjects.services import aware, marketing_activity_ids, request_event, request_locked, request_require_open

from .services import records_trigger_date_set, subject_records_erase

logger = logging.getLogger(__name__)


@transaction.atomic
def consent_withdraw(
    *, consent: ConsentRecord, withdrawn_at: dt.datetime | None = None, source: str = "", actor=None
) -> tuple[ConsentRecord, list[dict]]:
    """Withdraw a consent (Art. 7(3)): the person's records under the purpose's activity get
    ``consent_withdrawn_on`` (trigger ``consent_withdrawn``), so their expiry moves and the next sweep takes
    what has run out. Returns the consent and, per record, its new expiry. Withdrawing twice is refused."""
    now = timezone.now()
    withdrawn_at = aware(withdrawn_at, "withdrawn_at") if withdrawn_at is not None else now
    consent = ConsentRecord.objects.select_for_update().select_related("purpose", "subject").get(pk=consent.pk)
    if consent.withdrawn_at is not None:
        raise ValidationError(
            {"withdrawn_at": f"This consent was already withdrawn on {consent.withdrawn_at:%Y-%m-%d}."}
        )
    if withdrawn_at < consent.given_at:
        raise ValidationError({"withdrawn_at": "Consent cannot be withdrawn before it was given."})
    if withdrawn_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"withdrawn_at": "Consent cannot be withdrawn in the future."})
    consent.withdrawn_at, consent.withdrawal_source = withdrawn_at, (source or "").strip()[:100]
    consent.full_clean()
    consent.save(update_fields=["withdrawn_at", "withdrawal_source"])
    records = PersonalDataRecord.objects.filter(subject=consent.subject, activity_id=consent.purpose.activity_id)
    day = timezone.localtime(withdrawn_at).date()
    changed = records_trigger_date_set(records=records, field="consent_withdrawn_on", day=day, now=now)
    logger.info("consent %s withdrawn; %s record(s) moved", consent.pk, len(changed))
    return consent, changed


def _subject_records(request: DataSubjectRequest, record_ids: Iterable[int] | None):
    records = PersonalDataRecord.objects.filter(subject=request.subject).exclude(status=RecordStatus.ERASED)
    if record_ids is None:
        return records
    wanted = sorted(set(record_ids))
    found = set(records.filter(pk__in=wanted).values_list("pk", flat=True))
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise ValidationError({"records": f"Not records of this subject (or erased): {missing}."})
    return records.filter(pk__in=wanted)


def _check_completable(request: DataSubjectRequest, *, fields, records, identity_override: str) -> None:
    request_require_open(request)
    if request.status == RequestStatus.AWAITING_IDENTITY:
        raise ValidationError({"status": "The requester's identity has not been verified yet."})
    overridden = request.identity_overridden_at or (timezone.now() if identity_override.strip() else None)
    problem = rules.identity_problem(
        type=request.type, identity_verified_at=request.identity_verified_at, identity_overridden_at=overridden
    )
    if problem:
        raise ValidationError({"identity_override": problem})
    if identity_override.strip() and request.identity_verified_at is not None:
        raise ValidationError({"identity_override": "The identity is verified: there is no check to override."})
    if fields is not None and request.type != RequestType.RECTIFICATION:
        raise ValidationError({"fields": "Only a rectification names rectified fields."})
    if records is not None and request.type != RequestType.RESTRICTION:
        raise ValidationError({"records": "Only a restriction names records."})


def _access(request, *, now, **_) -> dict:
    held = PersonalDataRecord.objects.filter(subject=request.subject).exclude(status=RecordStatus.ERASED)
    return {"records": held.count()}


def _erasure(request, *, now, **_) -> dict:
    return subject_records_erase(subject=request.subject, now=now, origin="request")


def _restriction(request, *, now, records, **_) -> dict:
    chosen = _subject_records(request, records)
    ids = list(chosen.filter(restricted_at__isnull=True).order_by("pk").values_list("pk", flat=True))
    PersonalDataRecord.objects.filter(pk__in=ids).update(restricted_at=now, restricted_by=request, updated_at=now)
    return {"restricted": ids}


def _objection(request, *, now, **_) -> dict:
    marketing = PersonalDataRecord.objects.filter(
        subject=request.subject, activity_id__in=marketing_activity_ids(request.controller_id)
    )
    day = timezone.localtime(now).date()
    moved = records_trigger_date_set(records=marketing, field="consent_withdrawn_on", day=day, now=now)
    moved += records_trigger_date_set(records=marketing, field="relevance_ended_on", day=day, now=now)
    latest = {line["record"]: line["expires_at"] for line in moved}  # the later line of a record wins
    return {"marketing_records": [{"record": pk, "expires_at": at} for pk, at in sorted(latest.items())]}


def _consent_withdrawal(request, *, now, actor, **_) -> dict:
    withdrawn = []
    for consent in ConsentRecord.objects.in_force().filter(subject=request.subject).order_by("pk"):
        consent_withdraw(consent=consent, withdrawn_at=now, source=f"request #{request.pk}", actor=actor)
        withdrawn.append(consent.pk)
    return {"consents_withdrawn": withdrawn}


def _rectification(request, *, fields, **_) -> dict:
    problems = rules.rectified_field_problems(fields)
    if problems:
        raise ValidationError({"fields": problems})
    return {"fields": list(fields)}


EXECUTE: dict[str, Callable[..., dict]] = {
    RequestType.ACCESS: _access,
    RequestType.PORTABILITY: _access,
    RequestType.ERASURE: _erasure,
    RequestType.RESTRICTION: _restriction,
    RequestType.OBJECTION: _objection,
    RequestType.CONSENT_WITHDRAWAL: _consent_withdrawal,
    RequestType.RECTIFICATION: _rectification,
}


def _summary(outcome: dict, *, kind: str, fields) -> dict:
    """What the completion event keeps of the outcome: counts and names, never a value."""
    summary = {
        key: len(value) if isinstance(value, list) else value
        for key, value in outcome.items()
        if key not in ("type", "run")
    }
    if kind == RequestType.RECTIFICATION:
        summary["fields"] = list(fields)  # names only
    return summary


@transaction.atomic
def dsr_complete(
    *,
    request: DataSubjectRequest,
    actor,
    fields: list[str] | None = None,
    records: Iterable[int] | None = None,
    reason: str = "",
    identity_override: str = "",
    now: dt.datetime | None = None,
) -> DataSubjectRequest:
    """Execute the request as its type says (see the module docstring), store the outcome and close it.
    ``fields``: the rectified field names (rectification); ``records``: the record ids to restrict
    (restriction; all of the subject's when omitted). An erasure, access or portability request waits
    for the requester's identity to be verified; ``identity_override``, the DPO's reason, goes ahead
    without it and is kept as an event of its own."""
    now = now or timezone.now()
    identity_override = identity_override or ""
    request = request_locked(request)
    _check_completable(request, fields=fields, records=records, identity_override=identity_override)
    if identity_override.strip():
        request.identity_overridden_at = now
        request.save(update_fields=["identity_overridden_at"])
        request_event(
            request,
            kind=RequestEventKind.IDENTITY_OVERRIDDEN,
            actor=actor,
            before=request.status,
            reason=identity_override.strip(),
            now=now,
        )
    kind = request.type
    outcome: dict = {"type": kind}
    execute = EXECUTE.get(kind)
    if execute is not None:
        outcome.update(execute(request, now=now, actor=actor, fields=fields, records=records))
    before = request.status
    request.status, request.completed_at, request.outcome = RequestStatus.COMPLETED, now, outcome
    request.save(update_fields=["status", "completed_at", "outcome"])
    if outcome.get("subject", {}).get("identifiers") == "cleared":
        # The person is forgotten: like every other free text of theirs, the completion note goes.
        reason = ""
    summary = _summary(outcome, kind=kind, fields=fields)
    request_event(
        request, kind=RequestEventKind.COMPLETED, actor=actor, before=before, reason=reason, detail=summary, now=now
    )
    logger.info("data-subject request %s (%s) completed", request.pk, request.type)
    return request
