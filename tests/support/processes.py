"""Other processes (workers, beats, commands) on the test's own PostgreSQL database: the apps a
transactional test flushes, and the environment a child process needs to find that database."""

import os
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

# ``available_apps`` makes the flush after each test a TRUNCATE ... CASCADE of these apps' tables only.
APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django_celery_beat",
    "processing",
    "retention",
    "subjects",
]

def child_env(**extra) -> dict:
    db = connection.settings_dict
    auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    env.update(extra)
    return env
