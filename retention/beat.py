"""The beat entry that runs the sweep: created at migrate time, visible and pausable in the admin."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

BEAT_ENTRY_NAME = "retention.enforce: daily retention sweep"
TASK_NAME = "retention.enforce"


def cron_fields(expression: str) -> dict[str, str]:
    """``"30 2 * * *"`` -> the five crontab fields of django-celery-beat."""
    parts = expression.split()
    if len(parts) != 5:
        raise ImproperlyConfigured(
            f"ROPA_RETENTION_CRON must have five fields (minute hour day-of-month month day-of-week): {expression!r}"
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
    """Create the sweep's periodic task, or bring its schedule and expiry in line with the settings.
    Idempotent; never re-enables an entry someone paused in the admin."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    using = kwargs.get("using", "default")
    schedule, _ = CrontabSchedule.objects.using(using).get_or_create(
        **cron_fields(settings.ROPA_RETENTION_CRON), timezone=settings.CELERY_TIMEZONE
    )
    wanted = {
        "task": TASK_NAME,
        "crontab": schedule,
        "expire_seconds": settings.ROPA_RETENTION_BEAT_EXPIRES,
        "description": "Flags records whose retention has run out and erases those past their grace period.",
    }
    entry, created = PeriodicTask.objects.using(using).get_or_create(name=BEAT_ENTRY_NAME, defaults=wanted)
    if not created and any(getattr(entry, name) != value for name, value in wanted.items()):
        for name, value in wanted.items():
            setattr(entry, name, value)
        entry.save()
    return entry
