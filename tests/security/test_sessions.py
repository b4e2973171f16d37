"""A password or second-factor change ends the user's other sessions (ASVS 5.0 V7.4.3)."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from allauth.usersessions.models import UserSession
from django.test import Client

from ropa.access.sessions import sessions_end
from tests.auth import enrol_totp, login_verified

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 7"


@pytest.fixture
def two_clients(django_user_model):
    """The same DPO logged in twice; a request each, so allauth's middleware records both sessions."""
    user = django_user_model.objects.create_superuser("dana", "dana@example.org", PASSWORD)
    user.totp_secret = enrol_totp(user)
    clients = []
    for _ in range(2):
        client = login_verified(Client(), user)
        assert client.get("/admin/").status_code == 200
        clients.append(client)
    assert UserSession.objects.filter(user=user).count() == 2
    return user, clients


def assert_sent_to_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_own_password_change_ends_the_other_session_only(two_clients):
    user, (mine, other) = two_clients
    other_key = other.session.session_key
    response = mine.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "a new long passphrase 42", "password2": "a new long passphrase 42"},
    )
    assert response.status_code == 302
    assert_sent_to_login(other)
    assert not UserSession.objects.filter(user=user, session_key=other_key).exists()
    assert mine.get("/admin/").status_code == 200


def test_password_set_in_the_admin_ends_the_users_sessions(two_clients, django_user_model):
    user, (first, second) = two_clients
    dpo = django_user_model.objects.create_superuser("dpo", "dpo@example.org", PASSWORD)
    admin = login_verified(Client(), dpo)
    response = admin.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": "set by the dpo 9876", "password2": "set by the dpo 9876"},
    )
    assert response.status_code == 302
    assert_sent_to_login(first)
    assert_sent_to_login(second)
    assert not UserSession.objects.filter(user=user).exists()


def test_new_recovery_codes_end_the_other_session(two_clients, django_capture_on_commit_callbacks):
    user, (mine, other) = two_clients
    counter = next(iter(yield_hotp_counters_from_time()))
    code = format_hotp_value(hotp_value(user.totp_secret, counter))
    assert mine.post("/accounts/2fa/reauthenticate/", {"code": code}).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):  # allauth sends the signal after the commit
        response = mine.post("/accounts/2fa/recovery-codes/generate/")
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()
    assert_sent_to_login(other)
    assert mine.get("/admin/").status_code == 200


def test_sessions_end_keeps_the_named_session(two_clients):
    user, (mine, _other) = two_clients
    assert sessions_end(user, keep=mine.session.session_key) == 1
    assert list(UserSession.objects.filter(user=user).values_list("session_key", flat=True)) == [
        mine.session.session_key
    ]


def test_dpo_ends_all_sessions_of_a_user_from_the_user_list(two_clients, django_user_model):
    from ropa.audit.models import AuditEvent

    user, (first, second) = two_clients
    dpo = django_user_model.objects.create_superuser("dpo", "dpo@example.org", PASSWORD)
    admin = login_verified(Client(), dpo)
    response = admin.post(
        "/admin/auth/user/", {"action": "end_sessions_of_selected_users", "_selected_action": [user.pk]}
    )
    assert response.status_code == 302
    assert_sent_to_login(first)
    assert_sent_to_login(second)
    assert AuditEvent.objects.filter(object_repr="dana", changed_fields=["sessions"]).exists()


def test_own_sessions_are_listed_and_linked_from_the_admin_header(two_clients):
    _user, (mine, _other) = two_clients
    assert 'href="/accounts/sessions/"' in mine.get("/admin/").content.decode()
    page = mine.get("/accounts/sessions/")
    assert page.status_code == 200
    assert len(page.context["sessions"]) == 2
