"""There is no container engine on CI: the compose file is checked by reading it."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_whole_stack():
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


def test_app_services_share_one_image_and_the_environment_they_need():
    services = _compose()["services"]
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["build"] == "."
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379")
        assert env["DJANGO_DEBUG"] == "false"
        assert "DJANGO_SECRET_KEY" in env and "DJANGO_ALLOWED_HOSTS" in env
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_commands_start_gunicorn_worker_and_database_beat():
    services = _compose()["services"]
    assert "gunicorn ropa.wsgi:application" in services["web"]["command"]
    assert "migrate" in services["web"]["command"] and "load_statements" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "ropa", "worker"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in services["beat"]["command"]


def test_dockerfile_installs_the_project_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install" in dockerfile
    assert "USER ropa" in dockerfile
    for path in ("ropa", "processing", "retention", "subjects", "templates", "manage.py"):
        assert f"COPY {path}" in dockerfile
