"""The beat entry that reminds the DPO of the register entries to review: created at migrate time, visible and
pausable in the admin, as the request reminder's (``subjects/beat.py``)."""

from django.conf import settings

from ropa.kernel.beat import ensure_cron_entry

from .choices import REVIEW_DUE_DAYS

BEAT_ENTRY_NAME = "processing.reviews_remind: weekly review of register entries"
TASK_NAME = "processing.reviews_remind"


def ensure_beat_entry(**kwargs):
    """Create the reminder's periodic task, or bring its schedule in line with the settings."""
    return ensure_cron_entry(
        name=BEAT_ENTRY_NAME,
        task=TASK_NAME,
        cron_setting="ROPA_REVIEW_REMINDER_CRON",
        expires=settings.ROPA_REVIEW_REMINDER_EXPIRES,
        description=(
            f"Mails the DPO the processing activities whose review is due within {REVIEW_DUE_DAYS} days, "
            "overdue, or needed after a change that matters."
        ),
        using=kwargs.get("using", "default"),
    )
