"""At login, the user's stored language becomes the session's (``ropa.i18n.middleware.UserLanguageMiddleware``
applies it)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

SESSION_KEY = "ropa_language"


@receiver(user_logged_in, dispatch_uid="ropa.access.language_at_login")
def language_at_login(sender, request, user, **kwargs):
    from .models import UserProfile

    language = UserProfile.objects.filter(user=user).values_list("language", flat=True).first()
    if language and request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = language

# Set at a single sign-on login (ropa/access/sso.py): {"issuer", "amr", "acr", "mfa"}; "mfa" is true when the
# identity provider's ID token shows the second factor the settings ask for.
SSO_SESSION_KEY = "ropa_sso"
