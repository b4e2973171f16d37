"""The user's chosen language, applied whatever the browser asks for."""

from django.conf import settings
from django.utils import translation

from ropa.access.signals import SESSION_KEY

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


class UserLanguageMiddleware:
    """Applies a logged-in user's chosen language, whatever the browser asks for (after ``LocaleMiddleware``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        language = session.get(SESSION_KEY) if session is not None else None
        if language in LANGUAGE_CODES and getattr(request, "user", None) and request.user.is_authenticated:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language in LANGUAGE_CODES:
            response.headers.setdefault("Content-Language", language)
        return response
