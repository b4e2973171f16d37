"""allauth's social-account hooks for single sign-on: who may log in, and with which role.

An account is created at the first SSO login (never by a form), and only when the IdP gives a role. A local
account is linked by e-mail only when ``ROPA_OIDC_TRUST_EMAIL`` says the IdP verifies its addresses;
otherwise an SSO login whose address a local account holds is refused, and the local user links the IdP
account from a logged-in session (Account, Third-party accounts).
"""

import logging

from allauth.account.utils import filter_users_by_email
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.shortcuts import render

from .claims import SsoGrant, authentication_strength, sso_grant
from .provider import verify_nonce
from .services import sso_access_apply

logger = logging.getLogger(__name__)

REFUSED_TEMPLATE = "socialaccount/sso_refused.html"


def login_grant(sociallogin) -> SsoGrant:
    """The grant of the verified claims: the ID token's, completed by the userinfo answer."""
    data = sociallogin.account.extra_data
    claims = {**data.get("userinfo", {}), **data["id_token"]}
    return sso_grant(
        claims,
        roles_claim=settings.ROPA_OIDC_ROLES_CLAIM,
        role_map=settings.ROPA_OIDC_ROLE_MAP,
        controllers_claim=settings.ROPA_OIDC_CONTROLLERS_CLAIM,
    )


def login_strength(sociallogin) -> tuple[bool, bool]:
    """(accepted, mfa) of the verified ID token's amr and acr (``claims.authentication_strength``)."""
    return authentication_strength(
        sociallogin.account.extra_data["id_token"],
        require_amr=settings.ROPA_OIDC_REQUIRE_AMR,
        require_acr=settings.ROPA_OIDC_REQUIRE_ACR,
    )


def refuse(request, sociallogin, reason: str):
    """End the login with the page saying why, naming the IdP. Logged with the reason and the provider only."""
    logger.warning("Single sign-on login refused (%s) via %s", reason, sociallogin.account.provider)
    context = {"reason": reason, "idp": sociallogin.provider.name}
    raise ImmediateHttpResponse(render(request, REFUSED_TEMPLATE, context, status=403))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request, sociallogin) -> None:
        """Runs on the verified ID token, after allauth found the account it belongs to (if any)."""
        verify_nonce(sociallogin)
        if sociallogin.state.get("process") == AuthProcess.CONNECT:
            return  # a logged-in user links the IdP account; no login happens, roles apply at the next one
        accepted, _mfa = login_strength(sociallogin)
        if not accepted:
            refuse(request, sociallogin, "authentication_strength")
        grant = login_grant(sociallogin)
        if sociallogin.is_existing:
            # Before a refusal too: a role removed at the IdP is removed here at once.
            sso_access_apply(user=sociallogin.user, grant=grant, provider_id=sociallogin.account.provider)
        if not grant.groups:
            refuse(request, sociallogin, "no_role")
        if not sociallogin.is_existing and any(
            filter_users_by_email(address.email) for address in sociallogin.email_addresses
        ):
            refuse(request, sociallogin, "email_taken")

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return bool(login_grant(sociallogin).groups)

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        sso_access_apply(
            user=user, grant=login_grant(sociallogin), provider_id=sociallogin.account.provider, created=True
        )
        return user

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None) -> None:
        """What failed (the protocol's message, never a token or a claim), for the operator."""
        logger.warning(
            "Single sign-on login failed via %s: %s %s",
            getattr(provider, "sub_id", provider),
            error,
            f"{type(exception).__name__}: {exception}"[:200] if exception else "",
        )
