"""The session remembers how the IdP authenticated the user (``signals.SSO_SESSION_KEY``), for MFA checks."""

from allauth.account.signals import user_logged_in
from django.dispatch import receiver

from ..signals import SSO_SESSION_KEY
from .adapter import login_strength


@receiver(user_logged_in, dispatch_uid="ropa.access.sso.session")
def sso_session_record(sender, request, user, sociallogin=None, **kwargs):
    """At an SSO login: {"issuer", "amr", "acr", "mfa"} from the verified ID token. At any other login the
    key is removed, so that it always describes the login the session holds."""
    if sociallogin is None:
        request.session.pop(SSO_SESSION_KEY, None)
        return
    id_token = sociallogin.account.extra_data["id_token"]
    _accepted, mfa = login_strength(sociallogin)
    request.session[SSO_SESSION_KEY] = {
        "issuer": id_token["iss"],
        "amr": [value for value in id_token.get("amr") or [] if isinstance(value, str)],
        "acr": str(id_token.get("acr") or ""),
        "mfa": mfa,
    }
