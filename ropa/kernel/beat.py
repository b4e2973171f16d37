"""Periodic tasks the project schedules itself: created at migrate time from a cron setting, visible and
pausable in the admin (django-celery-beat). ``retention/beat.py`` and ``subjects/beat.py`` name theirs."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def cron_fields(expression: str, setting: str) -> dict[str, str]:
    """``"30 2 * * *"`` -> the five crontab fields of django-celery-beat; ``setting`` names where it came from."""
    parts = expression.split()
    if len(parts) != 5:
        raise ImproperlyConfigured(
            f"{setting} must have five fields (minute hour day-of-month month day-of-week): {expression!r}"
        )
    minute, hour, day_of_month, month_of_year, day_of_week = parts
    return {
        "minute": minute,
        "hour": hour,
        "day_of_month": day_of_month,
        "month_of_year": month_of_year,
        "day_of_week": day_of_week,
    }


def ensure_cron_entry(*, name: str, task: str, cron_setting: str, expires: int, description: str, using="default"):
    """Create the periodic task ``name`` running ``task`` on the schedule in ``settings.<cron_setting>``, or
    bring its schedule, expiry and description in line with the settings. Idempotent; never re-enables an
    entry someone paused in the admin."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    schedule, _ = CrontabSchedule.objects.using(using).get_or_create(
        **cron_fields(getattr(settings, cron_setting), cron_setting), timezone=settings.CELERY_TIMEZONE
    )
    wanted = {"task": task, "crontab": schedule, "expire_seconds": expires, "description": description}
    entry, created = PeriodicTask.objects.using(using).get_or_create(name=name, defaults=wanted)
    if not created and any(getattr(entry, field) != value for field, value in wanted.items()):
        for field, value in wanted.items():
            setattr(entry, field, value)
        entry.save()
    return entry
