"""The beat entry that reminds the DPO of request deadlines: created at migrate time, visible and pausable
in the admin, as the retention sweep's (``retention/beat.py``)."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

BEAT_ENTRY_NAME = "subjects.requests_remind: daily data-subject request deadlines"
TASK_NAME = "subjects.requests_remind"


def cron_fields(expression: str) -> dict[str, str]:
    """``"0 7 * * *"`` -> the five crontab fields of django-celery-beat."""
    parts = expression.split()
    if len(parts) != 5:
        raise ImproperlyConfigured(
            "ROPA_REQUESTS_REMINDER_CRON must have five fields (minute hour day-of-month month day-of-week): "
            f"{expression!r}"
        )
    minute, hour, day_of_month, month_of_year, day_of_week = parts
    return {
        "minute": minute,
        "hour": hour,
        "day_of_month": day_of_month,
        "month_of_year": month_of_year,
        "day_of_week": day_of_week,
    }


def ensure_beat_entry(**kwargs):
    """Create the reminder's periodic task, or bring its schedule in line with the settings. Idempotent;
    never re-enables an entry someone paused in the admin."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    using = kwargs.get("using", "default")
    schedule, _ = CrontabSchedule.objects.using(using).get_or_create(
        **cron_fields(settings.ROPA_REQUESTS_REMINDER_CRON), timezone=settings.CELERY_TIMEZONE
    )
    wanted = {
        "task": TASK_NAME,
        "crontab": schedule,
        "expire_seconds": settings.ROPA_REQUESTS_REMINDER_EXPIRES,
        "description": "Mails the DPO the data-subject requests due within 7 days and those overdue.",
    }
    entry, created = PeriodicTask.objects.using(using).get_or_create(name=BEAT_ENTRY_NAME, defaults=wanted)
    if not created and any(getattr(entry, name) != value for name, value in wanted.items()):
        for name, value in wanted.items():
            setattr(entry, name, value)
        entry.save()
    return entry
