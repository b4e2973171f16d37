"""Scheduling: thin Celery transport over ``reminders.breach_remind``."""

from celery import shared_task

from .beat import TASK_NAME
from .reminders import breach_remind


@shared_task(name=TASK_NAME, ignore_result=True)
def breach_remind_task() -> dict[str, dict[str, list[int]]]:
    """Mail the DPO the breach deadlines 24 hours or 6 hours away, or missed, that were not mailed yet.
    Running it twice mails each reminder once. Returns what it sent."""
    return breach_remind()
