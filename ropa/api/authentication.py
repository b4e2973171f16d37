"""``Authorization: Token <token>``: knox's digest lookup, plus revocation and the token's scope."""

import binascii
from hmac import compare_digest

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework import exceptions

from .models import LAST_USED_RESOLUTION, ApiToken


class ApiTokenAuthentication(TokenAuthentication):
    """Knox token authentication for scoped ``ApiToken`` rows.

    Unlike knox's own class it does not delete expired tokens (a revoked or expired token stays listed
    in the admin as evidence) and it refuses revoked ones. ``request.auth`` is the ``ApiToken``.
    """

    def authenticate_credentials(self, token: bytes):
        invalid = exceptions.AuthenticationFailed(_("Invalid token."))
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise invalid from None
        now = timezone.now()
        candidates = ApiToken.objects.filter(token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH]).select_related("user")
        for candidate in candidates:
            try:
                digest = hash_token(token)
            except (TypeError, ValueError, binascii.Error):
                raise invalid from None
            if not compare_digest(digest, candidate.digest):
                continue
            if candidate.revoked_at is not None:
                raise exceptions.AuthenticationFailed(_("Token revoked."))
            if candidate.expiry is not None and candidate.expiry <= now:
                raise exceptions.AuthenticationFailed(_("Token expired."))
            if not candidate.user.is_active:
                raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
            if candidate.last_used_at is None or now - candidate.last_used_at > LAST_USED_RESOLUTION:
                ApiToken.objects.filter(pk=candidate.pk).update(last_used_at=now)
                candidate.last_used_at = now
            return candidate.user, candidate
        raise invalid
