"""Scheduling: thin Celery transport over ``services.activity_review_remind``."""

from celery import shared_task

from .services import activity_review_remind


@shared_task(name="processing.reviews_remind", ignore_result=True)
def reviews_remind_task() -> dict[str, list[int]]:
    """Mail the DPO the activities whose review is due, overdue or needed, in one mail. Running it twice mails
    twice, nothing else. Returns the ids it reported, per status."""
    return activity_review_remind()
