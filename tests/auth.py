"""Logging a test client in as a user who passed both factors, as the login at /accounts/login/ leaves it."""

import time

from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

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
