"""No page without the second factor for whom it is required."""

from allauth.account.adapter import get_adapter as get_account_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode

from .mfa import (
    MUST_CONFIRM_MESSAGE,
    MUST_ENROL_MESSAGE,
    has_second_factor,
    mfa_required,
    session_mfa_verified,
    sso_session,
)


class MfaRequiredMiddleware:
    """A user who must have a second factor (``ropa.access.mfa.mfa_required``) and whose session has not given
    one reaches only the pages that set one up or ask for it, the logout, the language switch and /healthz.
    Any other page redirects there; the API answers 403. A password-only session from any path (an older
    session, a login that skipped allauth's stage) is held the same way, not only a user without an
    authenticator. A single sign-on session is the identity provider's to have checked (ropa/access/sso.py)."""

    OPEN_URL_NAMES = frozenset(
        {
            "mfa_activate_totp",
            "mfa_add_webauthn",
            "mfa_view_recovery_codes",
            "mfa_index",
            "mfa_reauthenticate",
            "mfa_reauthenticate_webauthn",
            "account_reauthenticate",
            "account_logout",
            "set_language",
            "healthz",
        }
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not self._held(request):
            return None
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": str(MUST_CONFIRM_MESSAGE)}, status=403)
        if has_second_factor(request.user):
            methods = get_account_adapter(request).get_reauthentication_methods(request.user)
            target, message = methods[0]["url"], MUST_CONFIRM_MESSAGE
        else:
            target, message = reverse("mfa_activate_totp"), MUST_ENROL_MESSAGE
        messages.warning(request, message)
        if request.method == "GET":
            target = f"{target}?{urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})}"
        return HttpResponseRedirect(target)

    def _held(self, request) -> bool:
        match = request.resolver_match
        if match is not None and match.url_name in self.OPEN_URL_NAMES:
            return False
        if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return False
        user = request.user
        return (
            user.is_authenticated
            and sso_session(request) is None
            and not session_mfa_verified(request)  # the session first: mfa_required may ask the database
            and mfa_required(user)
        )
