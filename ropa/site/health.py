"""Liveness and readiness: ``/healthz`` answers 200 when the database and the broker are reachable, and no
restore awaits the re-application of its erasures (docs/operations.md)."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from retention.journal import restore_pending
from ropa.celery import app as celery_app


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def _erasures_ok() -> bool:
    """False while the erasure journal is ahead of the database: restored, not yet re-applied."""
    try:
        return restore_pending() is None
    except Exception:
        return False


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    if settings.ROPA_ERASURE_JOURNAL:
        checks["erasures"] = checks["database"] and _erasures_ok()
    healthy = all(checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)
