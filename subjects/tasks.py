"""Scheduling: thin Celery transport over ``services.dsr_remind``."""

from celery import shared_task

from .services import dsr_remind


@shared_task(name="subjects.requests_remind", ignore_result=True)
def requests_remind_task() -> dict[str, list[int]]:
    """Mail the DPO the requests due within ``REQUEST_DUE_DAYS`` days and the overdue ones. Running it twice
    mails twice, nothing else. Returns the ids it reported."""
    return dsr_remind()
