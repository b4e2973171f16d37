"""Two-factor authentication on every path: no page behind the login before the second factor for the DPO and
superusers, enrolment forced, the code asked at every login, wrong codes locked out, tokens issued only after it."""

import io
import json

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.urls import reverse

from ropa.access.groups import DPO_GROUP, ensure_groups
from tests.auth import enrol_totp, log_in, log_in_with_code, login_verified, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
BEHIND_THE_LOGIN = ["admin:index", "retention-review", "register-export", "admin:processing_controller_changelist"]


@pytest.fixture
def dpo_member(django_user_model):
    ensure_groups()  # also after a test that emptied the database (transaction=True)
    user = django_user_model.objects.create_user("privacy", "privacy@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=DPO_GROUP))
    return user


# allauth announces a new authenticator once the transaction commits, before the response saves the session:
# with real commits (not the test's rolled-back transaction), as in production.
@pytest.mark.django_db(transaction=True)
def test_a_dpo_without_a_second_factor_is_sent_to_set_one_up_and_opens_nothing_else(client, dpo_member):
    assert log_in(client, "privacy", PASSWORD).status_code == 302
    for name in BEHIND_THE_LOGIN:
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("mfa_activate_totp")), name
    # Setting up the authenticator app with a code it shows opens the admin.
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_with_an_authenticator_the_password_alone_logs_nobody_in(client, dpo_member):
    secret = enrol_totp(dpo_member)
    response = log_in(client, "privacy", PASSWORD)
    assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    for name in BEHIND_THE_LOGIN:
        assert client.get(reverse(name)).status_code == 302, name
    assert client.post(reverse("mfa_authenticate"), {"code": "000000" if totp_code(secret) != "000000" else "111111"})
    assert "_auth_user_id" not in client.session
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_admin_login_sends_to_the_login_with_the_second_factor(client, dpo_member):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    response = client.post(reverse("admin:login"), {"username": "privacy", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_wrong_codes_lock_the_account_and_the_right_code_is_then_refused(client, dpo_member, settings):
    settings.AXES_FAILURE_LIMIT = 3
    secret = enrol_totp(dpo_member)
    log_in(client, "privacy", PASSWORD)
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    for _ in range(3):
        client.post(reverse("mfa_authenticate"), {"code": wrong})
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert "_auth_user_id" not in client.session
    other = client.__class__()
    response = log_in(other, "privacy", PASSWORD)
    assert response.status_code == 429 or "_auth_user_id" not in other.session


def test_a_password_reset_leaves_the_second_factor_in_place(client, dpo_member):
    secret = enrol_totp(dpo_member)
    dpo_member.set_password("another-long-password")
    dpo_member.save()
    response = log_in(client, "privacy", "another-long-password")
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    log_in_with_code(client.__class__(), "privacy", "another-long-password", secret)


def test_api_tokens_are_issued_only_by_a_session_that_gave_the_second_factor(client, django_user_model, settings):
    settings.ROPA_MFA_REQUIRED_GROUPS = []
    issuer = django_user_model.objects.create_user("issuer", "i@example.org", PASSWORD, is_staff=True)
    issuer.user_permissions.add(*Permission.objects.filter(content_type__app_label="api"))
    log_in(client, "issuer", PASSWORD)
    response = client.get(reverse("admin:api_apitoken_add"))
    assert response.status_code == 302 and response.url == reverse("admin:api_apitoken_changelist")
    login_verified(client, issuer)
    assert client.get(reverse("admin:api_apitoken_add")).status_code == 200


def test_the_authenticator_secret_is_stored_encrypted_and_survives_a_key_rotation(client, dpo_member, settings):
    secret = enrol_totp(dpo_member)
    stored = json.dumps(Authenticator.objects.get(user=dpo_member).data)
    assert secret not in stored
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-of-more-than-thirty-two-characters"
    log_in_with_code(client, "privacy", PASSWORD, secret)
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_recovery_code_logs_in_once(client, dpo_member):
    enrol_totp(dpo_member)
    code = RecoveryCodes.activate(dpo_member).get_unused_codes()[0]
    log_in(client, "privacy", PASSWORD)
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert client.get(reverse("admin:index")).status_code == 200
    other = client.__class__()
    log_in(other, "privacy", PASSWORD)
    other.post(reverse("mfa_authenticate"), {"code": code})
    assert "_auth_user_id" not in other.session  # used codes burn
    rc = RecoveryCodes(Authenticator.objects.get(user=dpo_member, type=Authenticator.Type.RECOVERY_CODES))
    assert code not in rc.get_unused_codes()


def test_a_dpo_cannot_remove_the_last_authenticator(client, dpo_member):
    secret = enrol_totp(dpo_member)
    login_verified(client, dpo_member)
    client.post(reverse("mfa_reauthenticate"), {"code": totp_code(secret)})
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 200 and "cannot deactivate" in response.content.decode()
    assert Authenticator.objects.filter(user=dpo_member, type=Authenticator.Type.TOTP).exists()


def test_removing_an_authenticator_asks_for_the_second_factor_again(client, django_user_model, settings):
    settings.ROPA_MFA_REQUIRED_GROUPS = []  # an auditor, who may have one and remove it
    user = django_user_model.objects.create_user("reader", "r@example.org", PASSWORD, is_staff=True)
    secret = enrol_totp(user)
    login_verified(client, user)  # even moments after the login
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302 and response.url.startswith(reverse("mfa_reauthenticate"))
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    # The password does not stand in for it: the confirmation asks for the authenticator's code.
    assert client.get(reverse("account_reauthenticate")).status_code == 302
    client.post(reverse("mfa_reauthenticate"), {"code": totp_code(secret)})
    client.post(reverse("mfa_deactivate_totp"))
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def test_mfa_rotate_secrets_moves_the_secrets_to_the_new_key(client, dpo_member, settings):
    secret = enrol_totp(dpo_member)
    RecoveryCodes.activate(dpo_member)
    old = settings.SECRET_KEY
    settings.SECRET_KEY_FALLBACKS = [old]
    settings.SECRET_KEY = "a-new-secret-key-of-more-than-thirty-two-characters"
    out = io.StringIO()
    call_command("mfa_rotate_secrets", stdout=out)
    assert "authenticators re-encrypted: 2" in out.getvalue()
    settings.SECRET_KEY_FALLBACKS = []
    log_in_with_code(client, "privacy", PASSWORD, secret)
    assert client.get(reverse("admin:index")).status_code == 200
    # Under a key that never encrypted them, the command refuses and changes nothing.
    before = list(Authenticator.objects.order_by("pk").values_list("data", flat=True))
    settings.SECRET_KEY = "yet-another-secret-key-of-more-than-thirty-two-chars"
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("mfa_rotate_secrets", stdout=io.StringIO())
    assert list(Authenticator.objects.order_by("pk").values_list("data", flat=True)) == before
