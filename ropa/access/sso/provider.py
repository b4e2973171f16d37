"""allauth's OpenID Connect provider with the checks the register needs at every login.

allauth 65 sends no ``nonce`` and, for an ID token fetched from the token endpoint, skips its signature (OIDC
Core 3.1.3.7 lets TLS stand in for it). Here a nonce is sent and matched, and the signature is always
verified, so that a token is accepted only if the IdP's key signed it for this client and this browser's
request. The discovery document must name the configured issuer exactly (no impersonation by metadata).
"""

import hmac

import jwt
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.utils.crypto import get_random_string

NONCE_LENGTH = 32
# Asymmetric algorithms only: an HMAC "signature" would be made with the client secret, "none" with nothing.
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
ID_TOKEN_REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "nonce"]
CLOCK_SKEW_SECONDS = 60


class RegisterOIDCAdapter(OpenIDConnectOAuth2Adapter):
    """Discovery, code exchange and ID token checks against the configured issuer."""

    @property
    def issuer(self) -> str:
        return self.get_provider().app.settings["server_url"]

    @property
    def openid_config(self) -> dict:
        config = super().openid_config
        if config.get("issuer") != self.issuer:
            raise OAuth2Error("The discovery document names another issuer than the configured one.")
        return config

    def complete_login(self, request, app, token, **kwargs):
        if not kwargs["response"].get("id_token"):
            raise OAuth2Error("The token endpoint answered without an ID token.")
        login = super().complete_login(request, app, token, **kwargs)
        data = login.account.extra_data
        if "userinfo" in data and data["userinfo"].get("sub") != data["id_token"]["sub"]:
            raise OAuth2Error("The userinfo answer is about another subject than the ID token.")
        return login

    def _decode_id_token(self, app, id_token: str) -> dict:
        """Replaces allauth's decoding (which skips the signature here): signature, issuer, audience, expiry,
        required claims, and ``azp`` when the token names several audiences (OIDC Core 3.1.3.7)."""
        try:
            _alg, key = jwtkit.fetch_key(id_token, self.openid_config["jwks_uri"], jwtkit.lookup_kid_jwk)
            claims = jwt.decode(
                id_token,
                key=key,
                algorithms=ID_TOKEN_ALGORITHMS,
                issuer=self.issuer,
                audience=app.client_id,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ID_TOKEN_REQUIRED_CLAIMS},
            )
        except (jwt.PyJWTError, KeyError) as exc:
            raise OAuth2Error("Invalid id_token") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != app.client_id:
            raise OAuth2Error("The ID token was issued to another client (azp).")
        jwtkit.verify_jti(claims)  # a token with a jti is accepted once
        return claims


class RegisterOIDCProvider(OpenIDConnectProvider):
    """Sends a nonce with every authorisation request and keeps it in the login's state (in the session)."""

    package = "ropa.access.sso"  # its urls: allauth's paths, served with the adapter above
    oauth2_adapter_class = RegisterOIDCAdapter

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = get_random_string(NONCE_LENGTH)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params = {**auth_params, "nonce": nonce}
        return super().redirect(request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs)


def verify_nonce(sociallogin) -> None:
    """The ID token's nonce is the one this browser's login sent: a token from another login is refused."""
    sent = sociallogin.state.get("nonce") or ""
    received = sociallogin.account.extra_data.get("id_token", {}).get("nonce") or ""
    if not sent or not hmac.compare_digest(str(sent), str(received)):
        raise OAuth2Error("The ID token's nonce is not the one this login sent.")
