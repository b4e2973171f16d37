"""The beat entry that reminds the DPO of breach deadlines: created at migrate time, visible and pausable in
the admin, as the request reminder's (``subjects/beat.py``)."""

from django.conf import settings

from ropa.kernel.beat import ensure_cron_entry

BEAT_ENTRY_NAME = "breaches.deadlines_remind: breach notification deadlines"
TASK_NAME = "breaches.deadlines_remind"


def ensure_beat_entry(**kwargs):
    """Create the reminder's periodic task, or bring its schedule in line with the settings."""
    return ensure_cron_entry(
        name=BEAT_ENTRY_NAME,
        task=TASK_NAME,
        cron_setting="ROPA_BREACH_REMINDER_CRON",
        expires=settings.ROPA_BREACH_REMINDER_EXPIRES,
        description=(
            "Mails the DPO each breach deadline (notifying the authority, Part 2) 24 hours and 6 hours before, "
            "and once when it is missed."
        ),
        using=kwargs.get("using", "default"),
    )
