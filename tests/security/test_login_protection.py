"""Login protection: repeated failures lock the admin login (the right password too) until the cool-off
or an unlock by command; passwords need 12+ characters and pass Django's validators; sessions expire
when idle and when the browser closes."""

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


def _login(client, password, username="dpo", **extra):
    """The login form at /accounts/login/ (allauth's ``login`` field: a username or an e-mail address)."""
    return client.post(reverse("account_login"), {"login": username, "password": password}, **extra)


def test_failed_logins_lock_the_account_and_the_right_password_is_then_refused(client, dpo, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert _login(client, "wrong-password").status_code == 200  # the form again, with its error
    assert _login(client, "wrong-password").status_code == 429  # the third failure locks
    locked = _login(client, PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_locked_account_is_unlocked_by_command(client, dpo, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        _login(client, "wrong-password")
    assert _login(client, PASSWORD).status_code == 429
    call_command("axes_reset_username", "dpo")
    response = _login(client, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(dpo.pk)


def test_failures_on_one_username_do_not_lock_another_from_elsewhere(client, dpo, django_user_model, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        _login(client, "wrong", username="dpo")
    other = django_user_model.objects.create_superuser("auditor", "a@example.org", PASSWORD)
    response = _login(client, PASSWORD, username=other.username, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("password", "complaint"),
    [
        ("Short1!x", "at least 12"),
        ("123456789012345", "entirely numeric"),
        ("password1234", "too common"),
        ("dpo@example.org1", "too similar"),
    ],
)
def test_weak_passwords_are_refused(dpo, password, complaint):
    with pytest.raises(ValidationError) as error:
        validate_password(password, user=dpo)
    assert any(complaint in message for message in error.value.messages), error.value.messages


def test_a_strong_password_is_accepted(dpo):
    validate_password("correct horse battery staple", user=dpo)


def test_sessions_expire_when_idle_and_at_browser_close(dpo_client):
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    response = dpo_client.get(reverse("admin:index"))
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    # A browser-session cookie (no Max-Age), and the server-side expiry moved on with this request.
    assert not cookie["max-age"]
    assert cookie["httponly"]
    assert dpo_client.session.get_expire_at_browser_close()
