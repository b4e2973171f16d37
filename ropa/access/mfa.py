"""Two-factor authentication: who must have a second factor, and whether this session has given one.

The login at /accounts/login/ (django-allauth) asks for the password, then, for a user with an authenticator,
for its code or key. Superusers and the members of ``ROPA_MFA_REQUIRED_GROUPS`` must have one:
``MfaRequiredMiddleware`` lets such a user, logged in without a second factor, reach nothing but the pages that
set one up or ask for it. The helpers here are what it, the token admin and the adapters ask.

Wrong codes are failed logins for django-axes too: after ``ROPA_LOGIN_FAILURE_LIMIT`` failures, password and
codes together, the username is locked, and the right code is then refused as the right password is.
"""

import time

from allauth.account import app_settings as account_settings
from allauth.account.internal.flows.login import get_authentication_records, record_authentication
from allauth.core import context
from allauth.mfa import signals as mfa_signals
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.base import forms as mfa_forms
from allauth.mfa.models import Authenticator
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _

from .signals import SSO_SESSION_KEY

# The authenticators that are a second factor; recovery codes stand in for them but are not one alone.
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def mfa_required(user) -> bool:
    """Must ``user`` log in with a second factor? Superusers and members of ``ROPA_MFA_REQUIRED_GROUPS``."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    groups = settings.ROPA_MFA_REQUIRED_GROUPS
    return bool(groups) and user.groups.filter(name__in=groups).exists()


def has_second_factor(user) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS).exists()


def sso_session(request) -> dict | None:
    """What a single sign-on login left in the session (``ropa.access.signals.SSO_SESSION_KEY``), if any."""
    value = request.session.get(SSO_SESSION_KEY)
    return value if isinstance(value, dict) else None


def session_mfa_verified(request) -> bool:
    """Did this session's user give a second factor in this session: here (allauth's authentication records
    hold an "mfa" step for this user), or at the identity provider of a single sign-on ("mfa": true)?"""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    sso = sso_session(request)
    if sso is not None and sso.get("mfa") is True:
        return True
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, user))


def recently_reauthenticated_by_mfa(request) -> bool:
    """Was the last confirmation of this session's user (allauth's reauthentication) a second factor, given
    less than ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds ago? A password alone does not count."""
    records = [r for r in get_authentication_records(request, request.user) if r.get("reauthenticated")]
    if not records or records[-1].get("method") != "mfa":
        return False
    return time.time() - records[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT


def may_remove(authenticator: Authenticator) -> bool:
    """A user who must have a second factor keeps the last one; recovery codes alone are none."""
    if authenticator.type not in SECOND_FACTORS or not mfa_required(authenticator.user):
        return True
    others = Authenticator.objects.filter(user_id=authenticator.user_id, type__in=SECOND_FACTORS)
    return others.exclude(pk=authenticator.pk).exists()


# --- Lock-out (django-axes) ------------------------------------------------------------------------------


def lockout_username(request, credentials=None) -> str | None:
    """The name django-axes counts failures under (``AXES_USERNAME_CALLABLE``): the account's username, whether
    the login form was given the username or the e-mail address, so that switching buys no extra guesses."""
    credentials = credentials or {}
    given = credentials.get("username") or credentials.get("email")
    if given is None and request is not None:
        given = getattr(request, "POST", {}).get("login")
    if not given:
        return None
    User = get_user_model()
    field = "email__iexact" if "@" in given else f"{User.USERNAME_FIELD}__iexact"
    usernames = list(User.objects.filter(**{field: given}).values_list(User.USERNAME_FIELD, flat=True)[:2])
    return usernames[0] if len(usernames) == 1 else given


def _refuse_if_locked_out(user) -> None:
    """A locked username gets no code checked: the answer is django-axes' lock-out (429), as for a password."""
    request = context.request
    if AxesProxyHandler.is_locked(request, {"username": user.get_username()}):
        request.axes_locked_out = True
        raise get_mfa_adapter().validation_error("incorrect_code")


class AuthenticateForm(mfa_forms.AuthenticateForm):
    """The code asked at login, refused for a locked-out username."""

    def clean_code(self):
        _refuse_if_locked_out(self.user)
        return super().clean_code()


class ReauthenticateForm(mfa_forms.ReauthenticateForm):
    """The code asked to confirm a sensitive change, refused for a locked-out username."""

    def clean_code(self):
        _refuse_if_locked_out(self.user)
        return super().clean_code()


def count_wrong_code_as_failed_login(sender, request, user, **kwargs):
    """allauth's ``authentication_failed`` (a wrong code or key): a failed login for django-axes."""
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)


def record_second_factor_at_enrolment(sender, request, user, authenticator, **kwargs):
    """allauth's ``authenticator_added``: setting up an app or key proves it (a valid code, a signed challenge),
    so the session has given a second factor, as a login with it would have, and has just confirmed it: the
    recovery codes made with it are shown next without asking for another code (the one given cannot serve
    twice)."""
    if authenticator.type in SECOND_FACTORS and request is not None:
        record_authentication(
            request, user, "mfa", id=authenticator.pk, type=authenticator.type, enrolled=True, reauthenticated=True
        )


def connect_receivers():
    mfa_signals.authentication_failed.connect(count_wrong_code_as_failed_login, dispatch_uid="ropa.mfa.wrong_code")
    mfa_signals.authenticator_added.connect(record_second_factor_at_enrolment, dispatch_uid="ropa.mfa.enrolled")


MUST_ENROL_MESSAGE = _(
    "Your role requires two-factor authentication. Set up an authenticator app (or a security key) to continue."
)
MUST_CONFIRM_MESSAGE = _(
    "Your role requires two-factor authentication. Enter a code from your authenticator to continue."
)
