"""Logging a test client in as a user who passed both factors, as the login at /accounts/login/ leaves it."""

import time

from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa import app_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.urls import reverse

USER_SESSION_KEY = "account_authentication_methods_user"


def enrol_totp(user) -> str:
    """Give ``user`` a TOTP authenticator (unless it has one); returns its secret (None when it had one)."""
    if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        return None
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def login_verified(client, user):
    """``force_login`` plus what a password-and-TOTP login records in the session."""
    enrol_totp(user)
    client.force_login(user)
    session = client.session
    now = time.time()
    session[USER_SESSION_KEY] = str(user.pk)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": now, "username": user.get_username()},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    session.save()
    return client


def totp_code(secret: str, *, offset: int = 0) -> str:
    """The code an authenticator app shows now (``offset`` periods later), as allauth computes it. Close to the
    end of a period it waits for the next one, so that the code is still valid when the server checks it."""
    period = app_settings.TOTP_PERIOD
    if offset == 0 and period - time.time() % period < 3:
        time.sleep(period - time.time() % period + 0.1)
    counter = next(yield_hotp_counters_from_time()) + offset
    return format_hotp_value(hotp_value(secret, counter))


def log_in(client, login: str, password: str, **extra):
    """The login form at /accounts/login/, as a browser posts it; ``extra`` goes to the request (e.g. REMOTE_ADDR)."""
    return client.post(reverse("account_login"), {"login": login, "password": password}, **extra)


def log_in_with_code(client, login: str, password: str, secret: str):
    """Password, then the authenticator's code: the whole login of a user with TOTP."""
    response = log_in(client, login, password)
    assert response.status_code == 302 and response.url == reverse("mfa_authenticate"), response
    return client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
