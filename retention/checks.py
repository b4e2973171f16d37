"""System checks: the sweep's task must end before the broker would hand it to a second worker."""

from django.conf import settings
from django.core import checks

from .beat import cron_fields


@checks.register(checks.Tags.compatibility)
def retention_limits_check(app_configs=None, **kwargs):
    problems = []
    try:
        cron_fields(settings.ROPA_RETENTION_CRON)
    except Exception as error:
        problems.append(checks.Error(str(error), id="retention.E001"))
    soft, hard = settings.CELERY_TASK_SOFT_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    if visibility is not None and hard >= visibility:
        problems.append(
            checks.Error(
                f"CELERY_TASK_TIME_LIMIT ({hard}s) must stay below the broker's visibility timeout ({visibility}s), "
                "or a sweep still running is handed to a second worker.",
                id="retention.E002",
            )
        )
    if soft <= settings.ROPA_RETENTION_TASK_MAX_SECONDS:
        problems.append(
            checks.Error(
                f"ROPA_RETENTION_TASK_MAX_SECONDS ({settings.ROPA_RETENTION_TASK_MAX_SECONDS}s) must stay below "
                f"CELERY_TASK_SOFT_TIME_LIMIT ({soft}s).",
                id="retention.E003",
            )
        )
    return problems
