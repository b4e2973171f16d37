"""How django-allauth behaves in the register: no open sign-up (accounts are made by a DPO), and a second factor,
once a user has one, is never stood in for by the password alone."""

import base64
import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from .mfa import has_second_factor, may_remove


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def get_reauthentication_methods(self, user) -> list[dict]:
        """A user with an authenticator confirms sensitive changes with it, not with the password, which is
        the factor an attacker is likeliest to hold. allauth's password confirmation page then sends on."""
        methods = super().get_reauthentication_methods(user)
        if user.is_authenticated and has_second_factor(user):
            return [method for method in methods if method["id"].startswith("mfa_")]
        return methods

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Setting up the first authenticator right after the login asks for no password again: it was
        given moments ago (within the confirmation timeout), and the user is being sent to this page."""
        if app == "allauth.mfa" and _just_logged_in_without_second_factor(context.request):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)


def _just_logged_in_without_second_factor(request) -> bool:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or has_second_factor(user):
        return False
    records = get_authentication_records(request, user)
    return bool(records) and time.time() - records[-1]["at"] < account_settings.REAUTHENTICATION_TIMEOUT


def _fernet_key(secret_key: str) -> bytes:
    derive = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ropa.access.mfa secrets")
    return base64.urlsafe_b64encode(derive.derive(secret_key.encode()))


def secrets_cipher() -> MultiFernet:
    """Encrypts with a key derived from ``SECRET_KEY``; also decrypts with those of ``SECRET_KEY_FALLBACKS``,
    so that a rotated secret key keeps the enrolled authenticators while the old one is a fallback."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


class MfaAdapter(DefaultMFAAdapter):
    """The authenticator app's secret and the recovery codes' seed are stored encrypted (Fernet), so that a copy
    of the database (a backup, a dump) does not give the second factor along with the password hashes."""

    def encrypt(self, text: str) -> str:
        return secrets_cipher().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        return secrets_cipher().decrypt(encrypted_text.encode()).decode()

    def can_delete_authenticator(self, authenticator) -> bool:
        """A user who must have a second factor cannot remove the last one (``ropa.access.mfa.may_remove``)."""
        return may_remove(authenticator)
