"""Rate limits per token (and per address for the few routes that need no token)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """``ROPA_API_THROTTLE_RATE`` requests per token, counted in the default cache (Redis in production,
    so that every web worker counts against the same budget)."""

    scope = "token"

    def get_rate(self):
        return settings.ROPA_API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.digest[:32]}


class AnonymousRateThrottle(SimpleRateThrottle):
    """``ROPA_API_ANON_THROTTLE_RATE`` requests per address without a token (schema, docs)."""

    scope = "anon"

    def get_rate(self):
        return settings.ROPA_API_ANON_THROTTLE_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
