"""Settings come from the environment: embedded defaults, PostgreSQL and Redis, production refusals."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], 'broker': settings.CELERY_BROKER_URL,"
    " 'debug': settings.DEBUG, 'db_name': str(settings.DATABASES['default']['NAME']),"
    " 'folders': {k: v for k, v in settings.CELERY_BROKER_TRANSPORT_OPTIONS.items() if '_folder' in k}}))"
)


def _settings(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "ropa.settings", "ROPA_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, check=False
    )


def test_embedded_defaults_are_sqlite_and_a_serverless_broker(tmp_path):
    result = _settings(tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["db_name"].startswith(str(tmp_path))
    assert values["broker"].startswith("filesystem://")
    # Every folder of the file-system broker is under ROPA_VAR_DIR, none in the working directory.
    assert {"data_folder_in", "data_folder_out", "processed_folder", "control_folder"} <= set(values["folders"])
    assert all(folder.startswith(str(tmp_path)) for folder in values["folders"].values())
    assert values["debug"] is True


def test_database_and_broker_urls_switch_to_postgres_and_redis(tmp_path):
    result = _settings(
        tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:5432/ropa", CELERY_BROKER_URL="redis://127.0.0.1:6379/0"
    )
    values = json.loads(result.stdout)
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["broker"] == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "false"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 50}, "DJANGO_ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_without_secret_and_hosts(tmp_path, env, message):
    result = _settings(tmp_path, **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_starts_with_secret_and_hosts(tmp_path):
    result = _settings(
        tmp_path, DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 50, DJANGO_ALLOWED_HOSTS="register.example.org"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["debug"] is False
