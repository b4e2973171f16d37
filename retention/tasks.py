"""Scheduling: thin Celery transport over ``services.retention_enforce`` (see its design comment)."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from processing.models import Controller

from .models import RunStatus
from .services import retention_enforce


@shared_task(name="retention.enforce", acks_late=True, ignore_result=True)
def retention_enforce_task(*, controller_id: int | None = None, dry_run: bool = False, origin: str = "task") -> int:
    """Sweep once, for at most ROPA_RETENTION_TASK_MAX_SECONDS (below the time limits, themselves below the
    broker's visibility timeout), and re-enqueue itself while work remains. Safe to run twice: every batch
    re-checks under its row locks. Returns the RetentionRun id."""
    controller = Controller.objects.get(pk=controller_id) if controller_id else None
    run = retention_enforce(
        now=timezone.now(),
        dry_run=dry_run,
        controller=controller,
        max_seconds=settings.ROPA_RETENTION_TASK_MAX_SECONDS,
        origin=origin,
    )
    if run.status == RunStatus.PARTIAL:
        retention_enforce_task.apply_async(
            kwargs={"controller_id": controller_id, "dry_run": dry_run, "origin": origin},
            expires=settings.ROPA_RETENTION_BEAT_EXPIRES,
        )
    return run.pk
