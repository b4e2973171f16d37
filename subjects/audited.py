"""What of data subjects the audit trail records (``ropa.audit.registry``): which fields changed, never
what they hold, since requests, consents and decisions concern a person."""

from ropa.audit.models import AuditAction
from ropa.audit.registry import Audited, register


def _decision_verb(created: bool, changed: list[str], instance) -> str:
    # Erasing by decision is an erasure; a hold decided in the queue is also the hold's own "hold placed".
    if created and instance.decision == "erase":
        return AuditAction.ERASURE
    return AuditAction.CREATE if created else AuditAction.UPDATE


register(
    Audited("subjects.DataSubjectRequest", values=False, show=False, controller=("controller",)),
    Audited("subjects.ConsentRecord", values=False, show=False, controller=("subject__controller",)),
    # The DPO's decision on a flagged record: ids, the decision, its day; the reason is free text, names only.
    Audited(
        "subjects.ReviewDecision",
        values=frozenset({"record", "activity", "decision", "kept_until", "run_id", "hold_id", "decided_by"})
        | frozenset({"decided_at"}),
        show=False,
        verb=_decision_verb,
        controller=("activity__controller",),
    ),
)
