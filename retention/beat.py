"""The beat entry that runs the sweep: created at migrate time, visible and pausable in the admin."""

from django.conf import settings

from ropa.kernel.beat import cron_fields as _cron_fields
from ropa.kernel.beat import ensure_cron_entry

BEAT_ENTRY_NAME = "retention.enforce: daily retention sweep"
TASK_NAME = "retention.enforce"


def cron_fields(expression: str) -> dict[str, str]:
    return _cron_fields(expression, "ROPA_RETENTION_CRON")


def ensure_beat_entry(**kwargs):
    """Create the sweep's periodic task, or bring its schedule and expiry in line with the settings."""
    return ensure_cron_entry(
        name=BEAT_ENTRY_NAME,
        task=TASK_NAME,
        cron_setting="ROPA_RETENTION_CRON",
        expires=settings.ROPA_RETENTION_BEAT_EXPIRES,
        description="Flags records whose retention has run out and erases those past their grace period.",
        using=kwargs.get("using", "default"),
    )
