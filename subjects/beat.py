"""The beat entry that reminds the DPO of request deadlines: created at migrate time, visible and pausable
in the admin, as the retention sweep's (``retention/beat.py``)."""

from django.conf import settings

from ropa.kernel.beat import ensure_cron_entry

from .choices import REQUEST_DUE_DAYS

BEAT_ENTRY_NAME = "subjects.requests_remind: daily data-subject request deadlines"
TASK_NAME = "subjects.requests_remind"


def ensure_beat_entry(**kwargs):
    """Create the reminder's periodic task, or bring its schedule in line with the settings."""
    return ensure_cron_entry(
        name=BEAT_ENTRY_NAME,
        task=TASK_NAME,
        cron_setting="ROPA_REQUESTS_REMINDER_CRON",
        expires=settings.ROPA_REQUESTS_REMINDER_EXPIRES,
        description=f"Mails the DPO the data-subject requests due within {REQUEST_DUE_DAYS} days and those overdue.",
        using=kwargs.get("using", "default"),
    )
