"""Single sign-on end to end, against a real OpenID provider on 127.0.0.1 (tests/oidc_provider.py): the app
does the discovery, the code exchange, the JWKS fetch and the ID token checks over HTTP. The browser's part is
the Django test client, and ``requests`` for the visit to the provider's /authorize."""

import html
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from ropa.access.models import ControllerAccess
from ropa.access.signals import SSO_SESSION_KEY
from ropa.audit.models import AuditEvent
from tests.factories import ControllerFactory
from tests.oidc_provider import TAMPERINGS, OIDCProvider

pytestmark = pytest.mark.django_db

User = get_user_model()
ROOT = Path(__file__).resolve().parents[2]
IDP_NAME = "Contoso Entra ID"
DPO_CLAIMS = {
    "sub": "a1b2c3",
    "preferred_username": "alice",
    "email": "alice@contoso.example",
    "name": "Alice Martens",
    "groups": ["staff", "ropa-dpo"],
    "amr": ["pwd", "mfa"],
    "acr": "urn:contoso:mfa",
}


@pytest.fixture
def idp(settings):
    """A running provider, and the register configured for it as the ROPA_OIDC_* variables would."""
    with OIDCProvider() as provider:
        settings.ROPA_OIDC_ISSUER = provider.issuer
        settings.ROPA_OIDC_ROLE_MAP = {"ropa-dpo": ["DPO"], "ropa-auditor": ["Auditor"]}
        settings.ROPA_OIDC_ROLES_CLAIM = "groups"
        settings.ROPA_OIDC_CONTROLLERS_CLAIM = ""
        settings.ROPA_OIDC_REQUIRE_AMR = []
        settings.ROPA_OIDC_REQUIRE_ACR = []
        app = {
            "provider_id": "sso",
            "name": IDP_NAME,
            "client_id": provider.client_id,
            "secret": provider.client_secret,
            "settings": {"server_url": provider.issuer, "scope": ["openid", "profile", "email"]},
        }
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {**settings.SOCIALACCOUNT_PROVIDERS["openid_connect"], "APPS": [app]}
        }
        provider.user = dict(DPO_CLAIMS)
        yield provider


def start_login(client, idp):
    """The login page's button, as a browser presses it: returns the redirect to the provider."""
    page = client.get(reverse("account_login"))
    action = re.search(r'<form method="post" action="([^"]+)" class="sso-provider"', page.content.decode())
    assert action, "no single sign-on button on the login page"
    started = client.post(html.unescape(action.group(1)))
    assert started.status_code == 302
    assert started["Location"].startswith(f"{idp.issuer}/authorize?")
    return started["Location"]


def sso_login(client, idp):
    """A whole login: button, the provider's /authorize (over HTTP), back to the app's callback."""
    back = requests.get(start_login(client, idp), allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.status_code
    callback = urlsplit(back.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def logged_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def groups_of(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_sso_is_off_by_default_no_button_and_its_urls_404(client):
    page = client.get(reverse("account_login"))
    assert page.status_code == 200
    assert b"sso-provider" not in page.content
    assert client.post("/accounts/oidc/sso/login/").status_code == 404
    assert client.get("/accounts/oidc/sso/login/callback/?code=x&state=y").status_code == 404


def test_login_page_shows_the_button_named_after_the_provider(client, idp):
    page = client.get(reverse("account_login"))
    assert f"Log in with {IDP_NAME}".encode() in page.content


def test_button_and_refusal_are_translated(client, idp):
    page = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="nl")
    assert f"Aanmelden met {IDP_NAME}".encode() in page.content
    idp.user["groups"] = []
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    refused = sso_login(client, idp)
    assert f"Votre compte chez {IDP_NAME} ne vous donne aucun rôle" in refused.content.decode()


def test_dpo_role_logs_into_the_admin_as_dpo(client, idp):
    done = sso_login(client, idp)

    assert done.status_code == 302 and done["Location"] == reverse("admin:index")
    user = logged_in_user(client)
    assert user.username == "alice" and user.is_staff and not user.is_superuser
    assert groups_of(user) == {"DPO"}
    assert not user.has_usable_password()
    assert SocialAccount.objects.get(user=user).uid == "a1b2c3"  # the IdP's sub, in the provider's namespace
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.session[SSO_SESSION_KEY] == {
        "issuer": idp.issuer,
        "amr": ["pwd", "mfa"],
        "acr": "urn:contoso:mfa",
        "mfa": True,
    }


def test_authorisation_request_carries_state_nonce_and_pkce(client, idp):
    sso_login(client, idp)
    sent = idp.authorize_requests[-1]
    assert len(sent["state"]) >= 12 and len(sent["nonce"]) >= 32
    assert sent["code_challenge_method"] == "S256" and sent["code_challenge"]
    assert idp.token_requests[-1]["code_verifier"]  # the token endpoint checked it against the challenge


def test_auditor_role_gives_the_auditor_group(client, idp):
    idp.user["groups"] = ["ropa-auditor"]
    sso_login(client, idp)
    user = logged_in_user(client)
    assert groups_of(user) == {"Auditor"} and user.is_staff


def test_roles_claim_can_be_nested_and_come_from_userinfo(client, idp, settings):
    settings.ROPA_OIDC_ROLES_CLAIM = "realm_access.roles"
    del idp.user["groups"]
    idp.userinfo_extra = {"realm_access": {"roles": ["ropa-auditor"]}}
    sso_login(client, idp)
    assert groups_of(logged_in_user(client)) == {"Auditor"}


def test_controllers_claim_gives_exactly_those_controllers(client, idp, settings):
    settings.ROPA_OIDC_CONTROLLERS_CLAIM = "ropa_controllers"
    acme, _other = ControllerFactory(key="acme"), ControllerFactory(key="globex")
    idp.user["ropa_controllers"] = ["acme", "no-such-controller"]

    sso_login(client, idp)

    access = ControllerAccess.objects.get(user=logged_in_user(client))
    assert list(access.controllers.all()) == [acme]


def test_controllers_claim_absent_gives_no_controller_and_star_gives_all(client, idp, settings):
    settings.ROPA_OIDC_CONTROLLERS_CLAIM = "ropa_controllers"
    ControllerFactory(key="acme")

    sso_login(client, idp)  # a mapped role, but no controllers claim: nothing to see
    user = logged_in_user(client)
    assert list(ControllerAccess.objects.get(user=user).controllers.all()) == []

    client.logout()
    idp.user["ropa_controllers"] = ["*"]
    sso_login(client, idp)
    assert not ControllerAccess.objects.filter(user=user).exists()  # no scope: every controller


def test_without_controllers_claim_configured_the_scope_set_here_is_kept(client, idp):
    sso_login(client, idp)
    user = logged_in_user(client)
    acme = ControllerFactory(key="acme")
    ControllerAccess.objects.create(user=user).controllers.set([acme])
    client.logout()

    sso_login(client, idp)
    assert list(user.controller_access.controllers.all()) == [acme]


def test_no_role_is_refused_with_a_page_and_creates_nothing(client, idp):
    idp.user["groups"] = ["staff"]

    refused = sso_login(client, idp)

    assert refused.status_code == 403
    text = refused.content.decode()
    assert f"Your account at {IDP_NAME} gives you no role" in text
    assert logged_in_user(client) is None
    assert not User.objects.exists() and not SocialAccount.objects.exists()


def test_required_amr_missing_is_refused(client, idp, settings):
    settings.ROPA_OIDC_REQUIRE_AMR = ["mfa", "hwk"]
    idp.user["amr"] = ["pwd"]

    refused = sso_login(client, idp)

    assert refused.status_code == 403
    assert "did not confirm the second factor" in refused.content.decode()
    assert logged_in_user(client) is None and not User.objects.exists()


def test_required_acr_met_is_accepted_as_mfa(client, idp, settings):
    settings.ROPA_OIDC_REQUIRE_ACR = ["urn:contoso:mfa"]
    idp.user["amr"] = ["pwd"]  # the IdP tells by acr only
    sso_login(client, idp)
    assert client.session[SSO_SESSION_KEY]["mfa"] is True

    client.logout()
    idp.user["acr"] = "urn:contoso:password"
    assert sso_login(client, idp).status_code == 403


def test_password_only_login_is_recorded_as_without_mfa(client, idp):
    idp.user["amr"] = ["pwd"]
    del idp.user["acr"]
    sso_login(client, idp)
    assert client.session[SSO_SESSION_KEY] == {"issuer": idp.issuer, "amr": ["pwd"], "acr": "", "mfa": False}


@pytest.mark.parametrize("tamper", TAMPERINGS)
def test_id_token_that_fails_verification_is_refused(client, idp, tamper):
    idp.tamper = tamper

    failed = sso_login(client, idp)

    assert failed.status_code == 401
    assert b"Third-Party Login Failure" in failed.content
    assert logged_in_user(client) is None
    assert not User.objects.exists()


def test_userinfo_about_another_subject_is_refused(client, idp):
    idp.userinfo_extra = {"sub": "someone-else"}
    assert sso_login(client, idp).status_code == 401
    assert logged_in_user(client) is None


def test_discovery_naming_another_issuer_is_refused_before_leaving_the_app(client, idp):
    idp.discovery_overrides = {"issuer": "https://idp.example.net"}
    page = client.get(reverse("account_login"))
    action = re.search(r'action="([^"]+)" class="sso-provider"', page.content.decode()).group(1)
    failed = client.post(html.unescape(action))
    assert failed.status_code == 401
    assert not idp.authorize_requests


def test_callback_replayed_is_refused(client, idp):
    back = requests.get(start_login(client, idp), allow_redirects=False, timeout=10)
    callback = urlsplit(back.headers["Location"])
    assert client.get(f"{callback.path}?{callback.query}").status_code == 302
    client.logout()
    assert client.get(f"{callback.path}?{callback.query}").status_code == 401  # state used up
    assert logged_in_user(client) is None


def test_callback_from_another_browser_is_refused(client, idp):
    back = requests.get(start_login(client, idp), allow_redirects=False, timeout=10)
    callback = urlsplit(back.headers["Location"])
    other = Client()
    assert other.get(f"{callback.path}?{callback.query}").status_code == 401  # its session holds no such state
    assert logged_in_user(other) is None


def test_roles_changed_at_the_idp_change_here_at_the_next_login(client, idp):
    sso_login(client, idp)
    user = logged_in_user(client)
    user.groups.add(Group.objects.create(name="Newsletter editors"))  # not managed by single sign-on
    client.logout()

    idp.user["groups"] = ["ropa-auditor"]
    sso_login(client, idp)
    assert groups_of(user) == {"Auditor", "Newsletter editors"}
    client.logout()

    idp.user["groups"] = []
    assert sso_login(client, idp).status_code == 403
    user.refresh_from_db()
    assert groups_of(user) == {"Newsletter editors"} and not user.is_staff
    assert logged_in_user(client) is None


def test_deactivated_account_stays_out(client, idp):
    sso_login(client, idp)
    user = logged_in_user(client)
    client.logout()
    User.objects.filter(pk=user.pk).update(is_active=False)

    sso_login(client, idp)
    assert logged_in_user(client) is None
    user.refresh_from_db()
    assert not user.is_active


def test_local_account_with_the_same_email_is_not_taken_over(client, idp):
    local = User.objects.create_user("alice.local", "alice@contoso.example", "a-long-test-password")

    refused = sso_login(client, idp)

    assert refused.status_code == 403
    assert "already exists in the register" in refused.content.decode()
    assert logged_in_user(client) is None
    assert not SocialAccount.objects.exists() and groups_of(local) == set() and not local.is_staff


def test_trusted_idp_links_the_local_account_by_verified_email(client, idp, settings):
    settings.SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
    settings.SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
    local = User.objects.create_user("alice.local", "alice@contoso.example", "a-long-test-password")
    idp.user["email_verified"] = True

    sso_login(client, idp)

    assert logged_in_user(client) == local
    assert SocialAccount.objects.get(uid="a1b2c3").user == local and groups_of(local) == {"DPO"}


def test_trusted_idp_does_not_link_an_unverified_email(client, idp, settings):
    settings.SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
    User.objects.create_user("alice.local", "alice@contoso.example", "a-long-test-password")
    idp.user["email_verified"] = False
    assert sso_login(client, idp).status_code == 403
    assert logged_in_user(client) is None


def test_role_changes_are_audited_as_the_idp_with_no_personal_data(client, idp):
    sso_login(client, idp)
    user = logged_in_user(client)
    created = AuditEvent.objects.get(object_type="auth.user", object_id=str(user.pk))
    assert created.actor == "sso:sso" and created.action == "create"
    assert created.changes["groups"] == [None, ["DPO"]]
    client.logout()

    sso_login(client, idp)  # nothing changed: no event
    assert AuditEvent.objects.filter(object_type="auth.user").count() == 1
    client.logout()

    idp.user["groups"] = ["ropa-auditor"]
    sso_login(client, idp)
    changed = AuditEvent.objects.filter(object_type="auth.user").latest("at")
    assert changed.changes == {"groups": [["DPO"], ["Auditor"]]}
    rows = " ".join(str(e.__dict__) for e in AuditEvent.objects.all())
    assert "contoso.example" not in rows and "Martens" not in rows and "a1b2c3" not in rows


# -- configuration by environment ------------------------------------------------------------------------
PROBE = (
    "import json, django; from django.conf import settings as s; django.setup(); "
    "print(json.dumps({'apps': s.SOCIALACCOUNT_PROVIDERS['openid_connect']['APPS'], 'map': s.ROPA_OIDC_ROLE_MAP}))"
)


def _settings_run(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ROPA_"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "ropa.settings", "ROPA_VAR_DIR": str(tmp_path), **env})
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True)


SSO_ENV = {
    "ROPA_OIDC_ISSUER": "https://login.microsoftonline.com/tenant-id/v2.0",
    "ROPA_OIDC_CLIENT_ID": "client",
    "ROPA_OIDC_CLIENT_SECRET": "secret",
    "ROPA_OIDC_ROLE_MAP": "ropa-dpo=DPO,ropa-auditor=Auditor",
}


def test_environment_configures_the_provider(tmp_path):
    import json

    result = _settings_run(tmp_path, **SSO_ENV, ROPA_OIDC_NAME="Microsoft Entra ID", ROPA_OIDC_SCOPES="openid email")
    assert result.returncode == 0, result.stderr
    configured = json.loads(result.stdout)
    (app,) = configured["apps"]
    assert app["name"] == "Microsoft Entra ID" and app["provider_id"] == "sso" and app["client_id"] == "client"
    assert app["settings"]["server_url"] == SSO_ENV["ROPA_OIDC_ISSUER"]
    assert app["settings"]["scope"] == ["openid", "email"]
    assert configured["map"] == {"ropa-dpo": ["DPO"], "ropa-auditor": ["Auditor"]}
    assert json.loads(_settings_run(tmp_path).stdout)["apps"] == []  # off by default


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"ROPA_OIDC_CLIENT_ID": ""}, "ROPA_OIDC_CLIENT_ID"),
        ({"ROPA_OIDC_ISSUER": ""}, "ROPA_OIDC_ISSUER"),
        ({"ROPA_OIDC_ROLE_MAP": "ropa-dpo=DPO,ropa-admin=Superuser"}, "ROPA_OIDC_ROLE_MAP"),
        ({"ROPA_OIDC_ROLE_MAP": "ropa-dpo"}, "ROPA_OIDC_ROLE_MAP"),
        ({"ROPA_OIDC_ROLE_MAP": ""}, "ROPA_OIDC_ROLE_MAP"),
        ({"ROPA_OIDC_ISSUER": "http://idp.example.org"}, "ROPA_OIDC_ISSUER"),
        ({"ROPA_OIDC_SCOPES": "profile email"}, "ROPA_OIDC_SCOPES"),
    ],
)
def test_invalid_configuration_stops_the_start_naming_the_variable(tmp_path, env, variable):
    result = _settings_run(tmp_path, **{**SSO_ENV, **env})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and variable in result.stderr


def test_authorisation_redirect_names_the_registered_callback(client, idp):
    sent = parse_qs(urlsplit(start_login(client, idp)).query)
    assert sent["redirect_uri"] == ["http://testserver/accounts/oidc/sso/login/callback/"]
