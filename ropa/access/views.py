"""The language picker in the admin header: Django's ``set_language``, remembered on the user."""

from django.conf import settings
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .models import UserProfile
from .signals import SESSION_KEY

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


@require_POST
def set_language(request):
    """Switch the interface language (cookie, as Django does) and, for a logged-in user, store the choice on
    the user's profile and session so that it follows the user to the next login."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if language in LANGUAGE_CODES and request.user.is_authenticated:
        UserProfile.objects.update_or_create(user=request.user, defaults={"language": language})
        request.session[SESSION_KEY] = language
    return response
