"""Writes of the breach register. The admin, the API and code calling in all go through these: keyword-only,
validated by ``rules``, atomic. Evidence is preserved through the one hold mechanism
(``retention.services.legal_hold_place``): a hold per activity the breach touched, released on closing."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from processing.models import Controller, ProcessingActivity

from ..services import legal_hold_place, legal_hold_release
from . import rules, selectors
from .choices import Art34Waiver, BreachStatus, CommunicationMethod, FilingPhase, RiskLevel
from .models import Breach, BreachCommunication, BreachFiling, BreachScope, RiskAssessment

logger = logging.getLogger(__name__)

NATURES = ("confidentiality", "integrity", "availability")


def notify_hours() -> int:
    return settings.ROPA_BREACH_NOTIFY_HOURS


def complement_days() -> int:
    return settings.ROPA_BREACH_COMPLEMENT_DAYS


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValidationError({field: "Give a moment with its time zone."})
    return value


def _locked(breach: Breach) -> Breach:
    return Breach.objects.select_for_update().get(pk=breach.pk)


def _move(breach: Breach, to: str, *, reason: str = "") -> None:
    latest = selectors.latest_assessment(breach)
    problem = rules.transition_problem(
        status=breach.status,
        to=to,
        level=latest.level if latest else None,
        reason=reason,
        filed=breach.filings.filter(phase=FilingPhase.INITIAL).exists(),
        subjects_settled=bool(breach.waiver) or breach.communications.filter(sent_at__isnull=False).exists(),
    )
    if problem:
        raise ValidationError({"status": problem})
    breach.status = to
    breach.closed_at = timezone.now() if to == BreachStatus.CLOSED else None
    breach.save(update_fields=["status", "closed_at"])


@transaction.atomic
def breach_report(
    *,
    controller: Controller,
    title: str,
    aware_at: dt.datetime,
    description: str = "",
    discovery: str = "",
    occurred_from: dt.datetime | None = None,
    occurred_until: dt.datetime | None = None,
    natures: Iterable[str] = (),
    external_reference: str = "",
    reported_by: str = "",
    client_controller: str = "",
    owner=None,
) -> tuple[Breach, bool]:
    """Record a (suspected) breach; the clock runs from ``aware_at``. A second report with the same
    ``external_reference`` for the controller is the same breach: returned as it is, ``created`` False."""
    external_reference = (external_reference or "").strip()
    if external_reference:
        found = Breach.objects.filter(controller=controller, external_reference=external_reference).first()
        if found is not None:
            return found, False
    errors = {}
    aware_at = _aware(aware_at, "aware_at")
    if aware_at > timezone.now() + dt.timedelta(minutes=5):
        errors["aware_at"] = "Awareness cannot lie in the future."
    natures = list(natures)
    unknown = [n for n in natures if n not in NATURES]
    if unknown:
        errors["natures"] = f"Unknown nature(s) {unknown}; use {', '.join(NATURES)}."
    if occurred_from and occurred_until and occurred_until < occurred_from:
        errors["occurred_until"] = "A breach cannot end before it began."
    if not (title or "").strip():
        errors["title"] = "Give the breach a title."
    if errors:
        raise ValidationError(errors)
    breach = Breach(
        controller=controller,
        title=title.strip(),
        description=description or "",
        discovery=discovery or "",
        occurred_from=occurred_from,
        occurred_until=occurred_until,
        aware_at=aware_at,
        external_reference=external_reference,
        reported_by=(reported_by or "").strip()[:100],
        client_controller=client_controller or "",
        owner=owner,
        notification_due_at=rules.notification_due_at(aware_at, hours=notify_hours()),
        **{n: n in natures for n in NATURES},
    )
    breach.full_clean()
    breach.save()
    logger.info("breach %s reported for controller %s", breach.pk, controller.key)
    return breach, True


@transaction.atomic
def breach_scope_compute(*, breach: Breach, criteria: dict, now: dt.datetime | None = None) -> BreachScope:
    """Count what ``criteria`` select in the records now and keep it as the breach's latest scope."""
    allowed = {"activities", "source_systems", "data_categories", "registered_from", "registered_until"}
    unknown = set(criteria) - allowed
    if unknown:
        raise ValidationError({"criteria": f"Unknown criteria {sorted(unknown)}."})
    clean = {key: value for key, value in criteria.items() if value not in (None, "", [], ())}
    for key in ("registered_from", "registered_until"):
        if isinstance(clean.get(key), dt.datetime):
            clean[key] = _aware(clean[key], key).isoformat()
    return BreachScope.objects.create(
        breach=breach,
        computed_at=now or timezone.now(),
        criteria=clean,
        counts=selectors.scope_counts(breach, clean),
    )


@transaction.atomic
def breach_scope_correct(
    *, scope: BreachScope, note: str, subjects_min=None, subjects_max=None, records_min=None, records_max=None
) -> BreachScope:
    """Correct the counts by hand (an estimate, a range), saying why."""
    errors = {}
    if not (note or "").strip():
        errors["correction_note"] = "Say why the counts are corrected."
    for low, high, name in ((subjects_min, subjects_max, "subjects_max"), (records_min, records_max, "records_max")):
        if low is not None and high is not None and high < low:
            errors[name] = "The upper bound is below the lower one."
    if errors:
        raise ValidationError(errors)
    scope.subjects_min, scope.subjects_max = subjects_min, subjects_max
    scope.records_min, scope.records_max = records_min, records_max
    scope.correction_note = note.strip()
    scope.save()
    return scope


@transaction.atomic
def breach_assess(
    *,
    breach: Breach,
    likelihood: int,
    severity: int,
    consequences: str = "",
    mitigations: str = "",
    encrypted: bool = False,
    pseudonymised: bool = False,
    actor=None,
    now: dt.datetime | None = None,
) -> RiskAssessment:
    """A new version of the risk assessment; a received breach becomes assessed."""
    breach = _locked(breach)
    try:
        level = rules.risk_level(likelihood=likelihood, severity=severity)
    except ValueError:
        raise ValidationError({"likelihood": "Likelihood and severity are 1 (low) to 4 (very high)."}) from None
    latest = selectors.latest_assessment(breach)
    assessment = RiskAssessment.objects.create(
        breach=breach,
        version=(latest.version + 1) if latest else 1,
        likelihood=likelihood,
        severity=severity,
        level=level,
        consequences=consequences or "",
        mitigations=mitigations or "",
        encrypted=encrypted,
        pseudonymised=pseudonymised,
        assessed_at=now or timezone.now(),
        assessed_by=actor if getattr(actor, "pk", None) else None,
    )
    if breach.status == BreachStatus.RECEIVED:
        _move(breach, BreachStatus.ASSESSED)
    return assessment


@transaction.atomic
def breach_file(
    *,
    breach: Breach,
    phase: str,
    filed_at: dt.datetime,
    channel: str,
    reference: str = "",
    late_reason: str = "",
) -> BreachFiling:
    """A notification to the authority. The initial one after its deadline needs the reasons for the
    delay; a complementary one needs the initial one first. The initial one makes the breach notified."""
    breach = _locked(breach)
    filed_at = _aware(filed_at, "filed_at")
    errors = {}
    if phase not in FilingPhase.values:
        errors["phase"] = f"Unknown phase “{phase}”; one of {', '.join(FilingPhase.values)}."
    if not (channel or "").strip():
        errors["channel"] = "Say how it was filed (the authority's portal, e-mail, ...)."
    if filed_at < breach.aware_at:
        errors["filed_at"] = "A notification cannot precede awareness of the breach."
    initial = breach.filings.filter(phase=FilingPhase.INITIAL).first()
    if phase == FilingPhase.INITIAL:
        if initial is not None:
            errors["phase"] = "The initial notification is on record: file a complementary one."
        problem = rules.late_filing_problem(
            filed_at=filed_at, due_at=breach.notification_due_at, late_reason=late_reason or ""
        )
        if problem:
            errors["late_reason"] = problem
    elif phase == FilingPhase.COMPLEMENTARY and initial is None:
        errors["phase"] = "File the initial notification first."
    if errors:
        raise ValidationError(errors)
    filing = BreachFiling.objects.create(
        breach=breach,
        phase=phase,
        filed_at=filed_at,
        channel=channel.strip(),
        reference=(reference or "").strip(),
        late_reason=(late_reason or "").strip(),
    )
    if phase == FilingPhase.INITIAL and breach.status == BreachStatus.ASSESSED:
        _move(breach, BreachStatus.NOTIFIED)
    return filing


def complement_due_at(breach: Breach) -> dt.datetime | None:
    """When the complementary notification is due (None before the initial one, or once filed)."""
    filings = {f.phase: f for f in breach.filings.all()}
    initial = filings.get(FilingPhase.INITIAL)
    if initial is None or FilingPhase.COMPLEMENTARY in filings:
        return None
    return rules.complement_due_at(initial.filed_at, days=complement_days(), tz=settings.TIME_ZONE)


@transaction.atomic
def breach_not_notifiable(*, breach: Breach) -> Breach:
    """The latest assessment finds no risk: the breach is documented (Art. 33(5)), not notified."""
    breach = _locked(breach)
    _move(breach, BreachStatus.NOT_NOTIFIABLE)
    return breach


@transaction.atomic
def breach_communication_save(*, breach: Breach, language: str, text: str) -> BreachCommunication:
    """A new version of the communication to the people in ``language``."""
    if language not in ("nl", "fr", "en"):
        raise ValidationError({"language": "One of nl, fr, en."})
    if not (text or "").strip():
        raise ValidationError({"text": "The communication has no text."})
    latest = breach.communications.filter(language=language).order_by("-version").first()
    return BreachCommunication.objects.create(
        breach=breach, language=language, text=text.strip(), version=(latest.version + 1) if latest else 1
    )


@transaction.atomic
def breach_subjects_informed(
    *, breach: Breach, communication: BreachCommunication, method: str, sent_at: dt.datetime
) -> Breach:
    """The people were told (Art. 34(1)), with this communication, by ``method``, at ``sent_at``."""
    breach = _locked(breach)
    if method not in CommunicationMethod.values:
        raise ValidationError({"method": f"One of {', '.join(CommunicationMethod.values)}."})
    if communication.breach_id != breach.pk:
        raise ValidationError({"communication": "Not a communication of this breach."})
    communication.method, communication.sent_at = method, _aware(sent_at, "sent_at")
    communication.save(update_fields=["method", "sent_at"])
    _move(breach, BreachStatus.SUBJECTS_INFORMED)
    return breach


@transaction.atomic
def breach_waive(*, breach: Breach, ground: str, justification: str) -> Breach:
    """The people are not told, on one of the grounds of Art. 34(3), with its justification."""
    breach = _locked(breach)
    if ground not in Art34Waiver.values:
        raise ValidationError({"waiver": f"One of {', '.join(Art34Waiver.values)}."})
    if not (justification or "").strip():
        raise ValidationError({"waiver_justification": "Justify the ground."})
    breach.waiver, breach.waiver_justification = ground, justification.strip()
    breach.save(update_fields=["waiver", "waiver_justification"])
    _move(breach, BreachStatus.SUBJECTS_WAIVED)
    return breach


@transaction.atomic
def breach_hold_evidence(*, breach: Breach, actor=None) -> list:
    """Freeze erasure of what the breach touched while it is investigated: a legal hold per activity of
    the latest scope (the sweep keeps every record of them), released when the breach closes."""
    breach = _locked(breach)
    scope = breach.scopes.order_by("-computed_at", "-id").first()
    if scope is None:
        raise ValidationError({"scope": "Compute the breach's scope first: the holds cover what it touched."})
    held = set(breach.legal_holds.in_force().values_list("activity_id", flat=True))
    activity_ids = sorted(set(selectors.scope_records(breach, scope.criteria).values_list("activity_id", flat=True)))
    placed = []
    for activity in ProcessingActivity.objects.filter(pk__in=activity_ids).exclude(pk__in=held):
        hold = legal_hold_place(reason=f"Evidence of breach #{breach.pk}", actor=actor, activity=activity)
        breach.legal_holds.add(hold)
        placed.append(hold)
    return placed


@transaction.atomic
def breach_close(*, breach: Breach, actor=None) -> Breach:
    """Close the breach; the holds it placed are released."""
    breach = _locked(breach)
    _move(breach, BreachStatus.CLOSED)
    for hold in breach.legal_holds.in_force():
        legal_hold_release(hold=hold, actor=actor, reason=f"Breach #{breach.pk} closed")
    return breach


@transaction.atomic
def breach_reopen(*, breach: Breach, reason: str) -> Breach:
    """Reopen a closed (or not notifiable) breach, with the reason: it is assessed again."""
    breach = _locked(breach)
    _move(breach, BreachStatus.ASSESSED, reason=reason or "")
    line = f"{timezone.localdate().isoformat()}: {reason.strip()}"
    breach.reopen_reasons = "\n".join(filter(None, [breach.reopen_reasons, line]))
    breach.save(update_fields=["reopen_reasons"])
    return breach


__all__ = [
    "RiskLevel",
    "breach_assess",
    "breach_close",
    "breach_communication_save",
    "breach_file",
    "breach_hold_evidence",
    "breach_not_notifiable",
    "breach_reopen",
    "breach_report",
    "breach_scope_compute",
    "breach_scope_correct",
    "breach_subjects_informed",
    "breach_waive",
    "complement_due_at",
]
