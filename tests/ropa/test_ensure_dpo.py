import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


def test_ensure_dpo_creates_a_login_once_and_prints_it(settings, tmp_path, capsys):
    settings.DEBUG = True  # pytest-django runs tests with DEBUG off
    settings.VAR_DIR = tmp_path
    call_command("ensure_dpo", "--url", "http://127.0.0.1:9000/admin/")
    first = capsys.readouterr().out
    login_line = next(line for line in first.splitlines() if line.startswith("Log in at "))
    password = login_line.rsplit(" / ", 1)[1]
    assert "http://127.0.0.1:9000/admin/ as dpo" in login_line
    assert "set up an authenticator app" in first  # a DPO must enrol a second factor at the first login
    assert authenticate(RequestFactory().post("/admin/login/"), username="dpo", password=password).is_superuser

    call_command("ensure_dpo")
    assert f"as dpo / {password}" in capsys.readouterr().out


def test_ensure_dpo_is_refused_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="createsuperuser"):
        call_command("ensure_dpo")
