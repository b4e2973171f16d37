"""Production settings: ``check --deploy`` passes on the documented defaults, each one can be overridden,
and every page carries the Content Security Policy without the admin needing inline script."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-secret-key-for-the-check-0123456789",
    "DJANGO_ALLOWED_HOSTS": "register.example.org",
}


def _run(args, tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ROPA_"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "ropa.settings", "ROPA_VAR_DIR": str(tmp_path), **PRODUCTION, **env})
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, check=False)


def test_check_deploy_passes_with_the_production_defaults(tmp_path):
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_when_a_production_default_is_turned_off(tmp_path):
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, DJANGO_SESSION_COOKIE_SECURE="false"
    )
    assert result.returncode != 0
    assert "security.W012" in result.stdout + result.stderr


PROBE = (
    "import json, django; from django.conf import settings as s; django.setup(); print(json.dumps({"
    "'proxy': s.SECURE_PROXY_SSL_HEADER, 'redirect': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS,"
    "'age': s.SESSION_COOKIE_AGE, 'close': s.SESSION_EXPIRE_AT_BROWSER_CLOSE, 'limit': s.AXES_FAILURE_LIMIT,"
    "'every': s.SESSION_SAVE_EVERY_REQUEST,"
    "'csp': bool(getattr(s, 'CONTENT_SECURITY_POLICY', None))}))"
)


def test_production_values_are_overridable_by_environment(tmp_path):
    import json

    defaults = json.loads(_run(["-c", PROBE], tmp_path).stdout)
    assert defaults == {
        "proxy": ["HTTP_X_FORWARDED_PROTO", "https"],
        "redirect": True,
        "hsts": 31536000,
        "age": 8 * 3600,
        "close": True,
        "limit": 5,
        "every": True,
        "csp": True,
    }
    changed = _run(
        ["-c", PROBE],
        tmp_path,
        DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_SCHEME,https",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_HSTS_SECONDS="600",
        DJANGO_SESSION_COOKIE_AGE="1800",
        ROPA_LOGIN_FAILURE_LIMIT="3",
    )
    values = json.loads(changed.stdout)
    assert values["proxy"] == ["HTTP_X_SCHEME", "https"]
    assert (values["redirect"], values["hsts"], values["age"], values["limit"]) == (False, 600, 1800, 3)


def test_a_malformed_proxy_header_refuses_to_start(tmp_path):
    result = _run(["-c", PROBE], tmp_path, DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO")
    assert result.returncode != 0
    assert "DJANGO_SECURE_PROXY_SSL_HEADER" in result.stderr


# --- Content Security Policy on the admin and the API's documentation -----------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def _policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def _assert_no_inline_script(response):
    html = response.content.decode()
    assert not INLINE_SCRIPT.findall(html), INLINE_SCRIPT.findall(html)
    assert not EVENT_HANDLER.findall(html), EVENT_HANDLER.findall(html)[:3]
    assert not JAVASCRIPT_URL.findall(html)


@pytest.fixture
def register(db):
    from tests.factories import ControllerFactory, ProcessingActivityFactory, RetentionRuleFactory

    activity = ProcessingActivityFactory(controller=ControllerFactory(key="acme"))
    return {"activity": activity, "rule": RetentionRuleFactory(activity=activity)}


ADMIN_PAGES = [
    ("admin:index", ()),
    ("admin:processing_controller_changelist", ()),
    ("admin:processing_controller_add", ()),
    ("admin:processing_processingactivity_changelist", ()),
    ("admin:processing_processingactivity_add", ()),
    ("admin:processing_processingactivity_change", ("activity",)),
    ("admin:retention_retentionrule_changelist", ()),
    ("admin:retention_retentionrule_add", ()),
    ("admin:retention_legalhold_add", ()),
    ("admin:retention_retentionrun_changelist", ()),
    ("admin:subjects_personaldatarecord_changelist", ()),
    ("admin:api_apitoken_changelist", ()),
    ("admin:api_apitoken_add", ()),
    ("admin:audit_auditevent_changelist", ()),
    ("admin:django_celery_beat_periodictask_changelist", ()),
    ("admin:axes_accessattempt_changelist", ()),
    ("register-completeness", ()),
    ("register-export", ()),
]


@pytest.mark.parametrize(("name", "args"), ADMIN_PAGES)
def test_admin_pages_carry_the_policy_and_need_no_inline_script(dpo_client, register, name, args):
    url = reverse(name, args=[register[a].pk for a in args])
    response = dpo_client.get(url)
    assert response.status_code == 200, url
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    _assert_no_inline_script(response)


def test_the_login_page_carries_the_policy(client, db):
    response = client.get(reverse("admin:login"))
    assert _policy(response)["script-src"] == ["'self'"]
    _assert_no_inline_script(response)


def test_the_admin_still_saves_under_the_policy(dpo_client, register):
    """A form post works: the CSRF token is a hidden field, not injected by script."""
    from processing.models import ProcessingActivity
    from tests.support.forms import activity_form

    response = dpo_client.post(
        reverse("admin:processing_processingactivity_add"), activity_form(register["activity"].controller)
    )
    assert response.status_code == 302
    assert ProcessingActivity.objects.filter(reference="NEW-1").exists()
    assert "Content-Security-Policy" in dpo_client.get(response.url).headers


def test_swagger_ui_loads_its_start_up_script_as_a_file(client, db):
    page = client.get("/api/v1/schema/swagger-ui/")
    assert page.status_code == 200
    _assert_no_inline_script(page)
    script = re.search(r'<script src="([^"]*\?script=[^"]*)"', page.content.decode())
    assert script, "the start-up script is served by the view itself"
    assert client.get(script.group(1).replace("&amp;", "&")).status_code == 200
    assert _policy(page)["script-src"] == ["'self'"]


def test_redoc_is_relaxed_only_for_its_worker(client, db):
    page = client.get("/api/v1/schema/redoc/")
    assert page.status_code == 200
    policy = _policy(page)
    assert policy["script-src"] == ["'self'"]
    assert "blob:" in policy["worker-src"]
    _assert_no_inline_script(page)
    # The relaxation stays on the ReDoc page.
    assert "worker-src" not in _policy(client.get("/api/v1/schema/swagger-ui/"))


SECURITY_BLOCK = re.compile(r"# --- Security:.*?(?=\n# Celery)", re.S)


def test_every_security_variable_is_documented():
    settings_text = (ROOT / "ropa" / "settings.py").read_text()
    block = SECURITY_BLOCK.search(settings_text).group(0)
    names = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', block))
    assert len(names) >= 15
    readme, example = (ROOT / "README.md").read_text(), (ROOT / ".env.example").read_text()
    assert not {n for n in names if n not in readme}, "missing in README"
    assert not {n for n in names if f"{n}=" not in example}, "missing in .env.example"
