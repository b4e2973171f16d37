"""The client's address, seen through the proxies in front of the app (``ROPA_PROXY_COUNT``).

Each proxy appends the address it received the request from to ``X-Forwarded-For``; the last proxy is the
request's ``REMOTE_ADDR``. With N proxies of our own, the client is therefore the N-th entry from the end:
whatever a client writes in the header itself lies before it and is never believed. With no proxy
configured the header is ignored. The login lock-out (django-axes), allauth's rate limits and the session
list, and the API's throttles all use this one answer (settings: ``AXES_CLIENT_IP_CALLABLE``,
``ALLAUTH_TRUSTED_PROXY_COUNT``, DRF's ``NUM_PROXIES``, which apply the same rule).
"""

from django.conf import settings


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    count = settings.ROPA_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote  # fewer hops than configured: not through our proxies, so the header says nothing
    return forwarded[-count]
