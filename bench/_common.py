"""What the benchmarks share: their own PostgreSQL databases, production settings for the processes they
start, and the fast (set-based SQL) seeding of personal-data records for a sweep."""

import argparse
import datetime as dt
import os
import secrets
import time
from urllib.parse import urlparse, urlunparse

# The moment the seeded data is judged against: a fifth of the records are due then.
NOW = dt.datetime(2030, 6, 1, 12, 0, tzinfo=dt.UTC)


def at_least(least: int):
    """An argparse type: a whole number no smaller than ``least`` (the sizes every bench runs at)."""

    def parse(text: str) -> int:
        value = int(text)
        if value < least:
            raise argparse.ArgumentTypeError(f"{value} is less than {least}")
        return value

    parse.__name__ = f"number >= {least}"
    return parse


def database_url(name: str) -> str:
    parsed = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(parsed._replace(path=f"/{name}"))


def child_env(name: str) -> dict:
    # Production settings: DEBUG would keep every query's SQL in memory.
    return {
        **os.environ,
        "DATABASE_URL": database_url(name),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "LOG_LEVEL": "WARNING",
    }


def admin_connection():
    import psycopg

    return psycopg.connect(database_url("postgres"), autocommit=True)


def recreate(name: str, template: str | None = None) -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def seed_sweep_data(rows: int) -> dict:
    """Migrate, then one controller, one activity with an anonymise and a delete rule (one year after collection,
    no grace period), ``rows // 10`` subjects and ``rows`` records, one in five due at ``NOW``, categories
    alternating; expiry computed in SQL. Needs ``django.setup()`` first."""
    from django.core.management import call_command
    from django.db import connection

    from processing.models import Controller, DataCategory, ProcessingActivity
    from retention.models import RetentionRule
    from retention.services import record_expiry_recompute

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    controller = Controller.objects.create(key="bench", name="Bench NV")
    activity = ProcessingActivity.objects.create(controller=controller, reference="B-1", name="Bench")
    anonymise = DataCategory.objects.create(code="bench-anonymise", name="Anonymised data")
    delete = DataCategory.objects.create(code="bench-delete", name="Deleted data")
    for category, action in ((anonymise, "anonymise"), (delete, "delete")):
        RetentionRule.objects.create(
            activity=activity,
            data_category=category,
            trigger="collection",
            duration_value=1,
            duration_unit="years",
            action=action,
            grace_days=0,
        )
    subjects = max(rows // 10, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO subjects_datasubject (controller_id, key, identifiers, created_at)
            SELECT %s, md5(g::text), jsonb_build_object('email', 'person' || g || '@example.org'), now()
            FROM generate_series(1, %s) g
            """,
            [controller.pk, subjects],
        )
        cursor.execute("SELECT min(id) FROM subjects_datasubject")
        first_subject = cursor.fetchone()[0]
        # One record in five collected long ago (due), the rest recently; categories alternate.
        cursor.execute(
            """
            INSERT INTO subjects_personaldatarecord (
                subject_id, activity_id, data_category_id, source_system, external_id, payload, collected_on,
                status, created_at, updated_at)
            SELECT %(first)s + (g %% %(subjects)s), %(activity)s,
                   CASE WHEN g %% 2 = 0 THEN %(anonymise)s ELSE %(delete)s END,
                   'bench', 'EXT-' || g,
                   jsonb_build_object('name', 'Person ' || g,
                                      'iban', 'BE71 0961 2345 ' || lpad((g %% 10000)::text, 4, '0'),
                                      'note', repeat('x', 40)),
                   CASE WHEN g %% 5 = 0 THEN DATE '2020-01-01' + (g %% 700) ELSE DATE '2030-01-01' + (g %% 100) END,
                   'active', now(), now()
            FROM generate_series(1, %(rows)s) g
            """,
            {
                "first": first_subject,
                "subjects": subjects,
                "activity": activity.pk,
                "anonymise": anonymise.pk,
                "delete": delete.pk,
                "rows": rows,
            },
        )
    built = time.perf_counter() - started
    started = time.perf_counter()
    record_expiry_recompute(activity_ids=[activity.pk], now=NOW)
    recompute = time.perf_counter() - started
    return {"build_seconds": built, "recompute_seconds": recompute, "activity_id": activity.pk}
