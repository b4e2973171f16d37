"""Writes of consent and data-subject requests (Art. 7, Art. 12-21 GDPR). The admin, the API and code
calling in all go through these functions: keyword-only, validated, atomic, and each step of a request
leaves an event (who, when, why; never a personal data value).

What touches records is retention's: withdrawing a consent and completing a request live in
``retention.requests`` (retention sits above this app), so a withdrawal or an objection recomputes the
expiry and an erasure request erases through the sweep's own eraser: holds, statutory minima, tombstones
and the erasure feed are the same whichever path erases.

How the types are executed (``retention.requests.dsr_complete``):
- access, portability: nothing changes; the package (``selectors.subject_package_zip``) is the answer.
- erasure: every record of the subject, except those a legal hold or a running statutory minimum keeps;
  when nothing is kept, the subject is forgotten (identifiers and the free text of its consents, requests
  and events cleared; its key stays), else the outcome says what keeps it (``subject``).
- restriction: ``restricted_at`` on the subject's records (all, or the ones named); the DPO lifts it.
- objection (direct marketing): records under the controller's marketing activities (``business_process``
  "Marketing") get ``consent_withdrawn_on`` and ``relevance_ended_on`` set, so their expiry moves.
- consent withdrawal: every consent in force of the subject is withdrawn (``consent_withdraw``).
- rectification: the names of the fields rectified are recorded; the source systems hold the values.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from processing.models import Controller, ProcessingActivity, Purpose
from ropa.kernel.mail import dpo_link, dpo_mail

from . import rules
from .choices import (
    OPEN_REQUEST_STATUSES,
    REQUEST_DUE_DAYS,
    Deadline,
    RequestEventKind,
    RequestLanguage,
    RequestStatus,
    RequestType,
)
from .models import (
    ConsentRecord,
    DataSubject,
    DataSubjectRequest,
    DataSubjectRequestEvent,
    PersonalDataRecord,
)

logger = logging.getLogger(__name__)

MARKETING_BUSINESS_PROCESS = "marketing"


def actor_label(actor) -> str:
    """How an event names its actor: the user name (an API token's user is its owner)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ""
    return actor.get_username()[:150]


def _user(actor):
    return actor if actor is not None and getattr(actor, "pk", None) is not None else None


def aware(value: dt.datetime, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ValidationError({field: "Give a date and time."})
    if timezone.is_naive(value):
        raise ValidationError({field: "Give a date and time with its time zone."})
    return value


# --- consent -----------------------------------------------------------------------------------------


def marketing_activity_ids(controller_id: int) -> list[int]:
    """The controller's direct-marketing activities: those whose business process is "Marketing" in the
    register (case-insensitive). Derived from the register, so the DPO decides by keeping it right."""
    return list(
        ProcessingActivity.objects.filter(
            controller_id=controller_id, business_process__iexact=MARKETING_BUSINESS_PROCESS
        ).values_list("pk", flat=True)
    )


@transaction.atomic
def consent_record(
    *,
    subject: DataSubject,
    purpose: Purpose,
    given_at: dt.datetime,
    source: str,
    evidence: str = "",
    evidence_version: str = "",
    actor=None,
) -> ConsentRecord:
    """Record that ``subject`` consented to ``purpose`` (which rests on consent, at the subject's controller;
    ``ConsentRecord.clean`` checks both)."""
    given_at = aware(given_at, "given_at")
    if given_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"given_at": "Consent cannot be given in the future."})
    if not (source or "").strip():
        # Blank in the table only once the person is forgotten; a consent is recorded with its source.
        raise ValidationError({"source": "Say where the consent was given."})
    consent = ConsentRecord(
        subject=subject,
        purpose=purpose,
        given_at=given_at,
        source=(source or "").strip(),
        evidence=evidence or "",
        evidence_version=evidence_version or "",
        recorded_by=actor_label(actor),
    )
    consent.full_clean()
    consent.save()
    logger.info("consent %s recorded", consent.pk)
    return consent


# --- data-subject requests ---------------------------------------------------------------------------


def request_event(request: DataSubjectRequest, *, kind, actor, before: str, reason: str = "", detail=None, now=None):
    DataSubjectRequestEvent.objects.create(
        request=request,
        at=now or timezone.now(),
        kind=kind,
        from_status=before,
        to_status=request.status,
        actor=_user(actor),
        actor_label=actor_label(actor),
        reason=reason,
        detail=detail or {},
    )


def request_locked(request: DataSubjectRequest) -> DataSubjectRequest:
    return DataSubjectRequest.objects.select_for_update().get(pk=request.pk)


def request_require_open(request: DataSubjectRequest) -> None:
    if request.status not in OPEN_REQUEST_STATUSES:
        raise ValidationError(
            {"status": f"The request is closed ({request.get_status_display()}); nothing more can be done to it."}
        )


def _reschedule(request: DataSubjectRequest) -> None:
    request.due_on = rules.request_due_on(
        received_on=request.received_on,
        extension_months=request.extension_months,
        paused_days=request.paused_days,
    )


@transaction.atomic
def dsr_receive(
    *,
    controller: Controller,
    subject: DataSubject,
    type: str,
    received_on: dt.date | None = None,
    source: str = "",
    note: str = "",
    language: str = RequestLanguage.EN,
    actor=None,
) -> DataSubjectRequest:
    """File a request received on ``received_on`` (today by default); its deadline is one month later.
    ``language``: the one the requester is answered in (nl, fr or en)."""
    today = timezone.localdate()
    received_on = received_on or today
    errors = {}
    if type not in RequestType.values:
        errors["type"] = f"Unknown request type “{type}”; one of {', '.join(RequestType.values)}."
    if subject.controller_id != controller.pk:
        errors["subject"] = "The subject belongs to another controller."
    if not isinstance(received_on, dt.date) or isinstance(received_on, dt.datetime):
        errors["received_on"] = "Give a date."
    elif received_on > today:
        errors["received_on"] = "A request cannot be received in the future."
    if language not in RequestLanguage.values:
        errors["language"] = f"Unknown language “{language}”; one of {', '.join(RequestLanguage.values)}."
    if errors:
        raise ValidationError(errors)
    request = DataSubjectRequest(
        controller=controller,
        subject=subject,
        type=type,
        received_on=received_on,
        source=(source or "").strip()[:100],
        note=note or "",
        language=language,
    )
    _reschedule(request)
    request.full_clean()
    request.save()
    request_event(
        request, kind=RequestEventKind.RECEIVED, actor=actor, before="", detail={"due_on": request.due_on.isoformat()}
    )
    logger.info("data-subject request %s (%s) received, due %s", request.pk, request.type, request.due_on)
    return request


@transaction.atomic
def dsr_identity_request(*, request: DataSubjectRequest, actor, reason: str = "", today: dt.date | None = None):
    """Ask the requester to prove their identity (Art. 12(6)): the clock stops until it is verified."""
    request = request_locked(request)
    request_require_open(request)
    if request.status == RequestStatus.AWAITING_IDENTITY:
        raise ValidationError({"status": "Proof of identity has already been asked for."})
    if request.identity_verified_at is not None:
        raise ValidationError({"status": "The identity has already been verified."})
    before = request.status
    request.status, request.paused_on = RequestStatus.AWAITING_IDENTITY, today or timezone.localdate()
    request.save(update_fields=["status", "paused_on"])
    request_event(request, kind=RequestEventKind.IDENTITY_REQUESTED, actor=actor, before=before, reason=reason)
    return request


@transaction.atomic
def dsr_identity_verify(*, request: DataSubjectRequest, actor, reason: str = "", now: dt.datetime | None = None):
    """The requester's identity is verified: the request is in progress and the days the clock stood
    still are added to the deadline."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    request = request_locked(request)
    request_require_open(request)
    if request.identity_verified_at is not None:
        raise ValidationError({"status": "The identity has already been verified."})
    before, paused = request.status, 0
    if request.status == RequestStatus.AWAITING_IDENTITY and request.paused_on is not None:
        paused = rules.paused_days_between(paused_on=request.paused_on, resumed_on=today)
    request.paused_days += paused
    request.paused_on = None
    request.status, request.identity_verified_at = RequestStatus.IN_PROGRESS, now
    _reschedule(request)
    request.save(update_fields=["status", "paused_on", "paused_days", "identity_verified_at", "due_on"])
    request_event(
        request,
        kind=RequestEventKind.IDENTITY_VERIFIED,
        actor=actor,
        before=before,
        reason=reason,
        detail={"paused_days": paused, "due_on": request.due_on.isoformat()},
        now=now,
    )
    return request


@transaction.atomic
def dsr_extend(*, request: DataSubjectRequest, months, reason: str, actor, today: dt.date | None = None):
    """Extend the deadline by ``months`` (at most two in all, Art. 12(3)), for the reason given."""
    request = request_locked(request)
    problems = rules.extension_problems(
        status=request.status,
        extension_months=request.extension_months,
        months=months,
        reason=reason,
        due_on=request.due_on,
        today=today or timezone.localdate(),
    )
    if problems:
        raise ValidationError(problems)
    request.extension_months += months
    reason = reason.strip()
    request.extension_reason = "\n".join(filter(None, [request.extension_reason, reason]))
    _reschedule(request)
    request.save(update_fields=["extension_months", "extension_reason", "due_on"])
    request_event(
        request,
        kind=RequestEventKind.EXTENDED,
        actor=actor,
        before=request.status,
        reason=reason,
        detail={"months": months, "due_on": request.due_on.isoformat()},
    )
    return request


@transaction.atomic
def dsr_reject(*, request: DataSubjectRequest, reason: str, actor, now: dt.datetime | None = None):
    """Refuse the request (manifestly unfounded or excessive, identity not proven, ...; Art. 12(4)-(5))."""
    request = request_locked(request)
    request_require_open(request)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the request is rejected; the requester must be told (Art. 12(4))."})
    before = request.status
    request.status, request.rejection_reason = RequestStatus.REJECTED, reason.strip()
    request.completed_at = now or timezone.now()
    request.save(update_fields=["status", "rejection_reason", "completed_at"])
    request_event(request, kind=RequestEventKind.REJECTED, actor=actor, before=before, reason=request.rejection_reason)
    return request


@transaction.atomic
def dsr_restriction_lift(*, request: DataSubjectRequest, actor, reason: str = "", records: Iterable[int] | None = None):
    """Lift the restriction this request placed (on all its records, or the ones named). Returns the ids."""
    request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    if request.type != RequestType.RESTRICTION:
        raise ValidationError({"type": "Only a restriction request restricts records."})
    restricted = PersonalDataRecord.objects.filter(restricted_by=request)
    if records is not None:
        restricted = restricted.filter(pk__in=list(records))
    ids = list(restricted.order_by("pk").values_list("pk", flat=True))
    if not ids:
        raise ValidationError({"records": "No record is restricted by this request."})
    PersonalDataRecord.objects.filter(pk__in=ids).update(
        restricted_at=None, restricted_by=None, updated_at=timezone.now()
    )
    request_event(
        request,
        kind=RequestEventKind.RESTRICTION_LIFTED,
        actor=actor,
        before=request.status,
        reason=reason,
        detail={"records": ids},
    )
    return ids


def dsr_package_downloaded(*, request: DataSubjectRequest, actor) -> None:
    """Evidence that the package left the register, and who took it. Refused while the requester's
    identity is unverified (and not overridden): the package is everything held about the person."""
    problem = rules.identity_problem(
        type=request.type,
        identity_verified_at=request.identity_verified_at,
        identity_overridden_at=request.identity_overridden_at,
    )
    if problem:
        raise ValidationError({"identity": problem})
    request_event(request, kind=RequestEventKind.PACKAGE_DOWNLOADED, actor=actor, before=request.status)


# --- reminders -------------------------------------------------------------------------------------


def dsr_remind(*, today: dt.date | None = None, days: int = REQUEST_DUE_DAYS) -> dict[str, list[int]]:
    """Mail the DPO the requests due within ``days`` days and those overdue: ids, types, controllers and
    dates, never who asked. Returns the ids of both lists (empty lists: no mail)."""
    today = today or timezone.localdate()
    overdue = list(DataSubjectRequest.objects.overdue(today).select_related("controller").order_by("due_on", "pk"))
    due = list(DataSubjectRequest.objects.due_within(days, today).select_related("controller").order_by("due_on", "pk"))
    result = {"overdue": [r.pk for r in overdue], "due": [r.pk for r in due]}
    if not settings.ROPA_DPO_EMAILS or not (overdue or due):
        return result

    def line(r: DataSubjectRequest) -> str:
        left = (r.due_on - today).days
        when = f"{-left} day(s) overdue" if left < 0 else f"{left} day(s) left"
        link = dpo_link(reverse("admin:subjects_datasubjectrequest_change", args=[r.pk]))
        return f"  #{r.pk} {r.type} ({r.controller.key}), due {r.due_on.isoformat()}, {when}: {link}"

    changelist = dpo_link(reverse("admin:subjects_datasubjectrequest_changelist"))
    lines = [
        f"Data-subject requests on {today.isoformat()}: {len(overdue)} overdue, {len(due)} due within {days} days.",
        "",
        "Overdue:" if overdue else "Overdue: none",
        *(line(r) for r in overdue),
        "",
        f"Due within {days} days:" if due else f"Due within {days} days: none",
        *(line(r) for r in due),
        "",
        f"Overdue requests: {changelist}?deadline={Deadline.OVERDUE}",
        f"Due within {REQUEST_DUE_DAYS} days: {changelist}?deadline={Deadline.DUE_SOON}",
    ]
    dpo_mail(subject=f"data-subject requests: {len(overdue)} overdue, {len(due)} due within {days} days", lines=lines)
    return result
