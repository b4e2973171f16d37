"""What of the breach register the audit trail records. Free text (a description, consequences, reasons,
a communication) may name a person: its field names only; the clock, statuses and counts with values."""

from ropa.audit.registry import Audited, register

register(
    Audited(
        "breaches.Breach",
        values=frozenset(
            {"controller", "status", "aware_at", "notification_due_at", "occurred_from", "occurred_until"}
            | {"confidentiality", "integrity", "availability", "owner", "waiver", "closed_at", "external_reference"}
        ),
        show=False,
        controller=("controller",),
    ),
    Audited(
        "breaches.BreachScope",
        values=frozenset({"computed_at", "criteria", "counts"}),
        show=False,
        controller=("breach__controller",),
    ),
    Audited(
        "breaches.RiskAssessment",
        values=frozenset({"version", "likelihood", "severity", "level", "encrypted", "pseudonymised", "assessed_at"}),
        controller=("breach__controller",),
    ),
    Audited(
        "breaches.BreachFiling",
        values=frozenset({"phase", "filed_at", "channel", "reference"}),
        controller=("breach__controller",),
    ),
    Audited(
        "breaches.BreachCommunication",
        values=frozenset({"version", "language", "method", "sent_at"}),
        show=False,
        controller=("breach__controller",),
    ),
)
