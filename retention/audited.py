"""What of retention the audit trail records (``ropa.audit.registry``): rules, holds and runs."""

from ropa.audit.models import AuditAction
from ropa.audit.registry import Audited, register

from .models import HOLD_CONTROLLER_PATHS


def _hold_verb(created: bool, changed: list[str], instance) -> str:
    if created:
        return AuditAction.HOLD_PLACED
    return AuditAction.HOLD_RELEASED if "released_at" in changed and instance.released_at else AuditAction.UPDATE


def _run_verb(created: bool, changed: list[str], instance) -> str | None:
    if created:
        return AuditAction.CREATE
    if "status" not in changed:
        return None  # progress of a running sweep: its counts are the run's own evidence
    erased = (instance.anonymised or 0) + (instance.deleted or 0)
    return AuditAction.ERASURE if erased and not instance.dry_run else AuditAction.UPDATE


register(
    Audited("retention.RetentionRule", controller=("activity__controller",)),
    # A hold's reasons are free text that may name a person: names only for those two.
    Audited(
        "retention.LegalHold",
        values=frozenset({"subject", "record", "activity", "controller", "placed_by", "placed_at"})
        | frozenset({"released_by", "released_at"}),
        show=False,
        verb=_hold_verb,
        controller=HOLD_CONTROLLER_PATHS,
    ),
    # A run keeps no values here (its counts are on the run itself; error texts could quote data).
    Audited(
        "retention.RetentionRun",
        values=frozenset(),
        verb=_run_verb,
        ignore=frozenset({"heartbeat_at"}),
        controller=("controller",),
    ),
)
