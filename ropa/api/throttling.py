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


class AuthFailureThrottle(SimpleRateThrottle):
    """``ROPA_API_AUTH_FAILURE_RATE`` requests without a valid token per client address. Checked *before*
    authentication (DRF authenticates first, and a refused token is answered before any throttle runs), so
    that guessing tokens is slowed down; only the refusals (401s) count against the budget."""

    scope = "auth_failure"

    def get_rate(self):
        return settings.ROPA_API_AUTH_FAILURE_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view):
        """Whether the address still has failures left; counts nothing (``record_failure`` does)."""
        self.key = self.get_cache_key(request, view)
        self.now = self.timer()
        self.history = [at for at in self.cache.get(self.key, []) if at > self.now - self.duration]
        return len(self.history) < self.num_requests

    def record_failure(self, request, view) -> None:
        self.allow_request(request, view)
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)
