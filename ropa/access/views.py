"""The language picker in the admin header (Django's ``set_language``, remembered on the user), and allauth's
pages that remove a second factor, which ask for a fresh one first."""

from functools import wraps

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.internal.flows.reauthentication import suspend_request
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes import views as recovery_codes_views
from allauth.mfa.totp import views as totp_views
from allauth.mfa.webauthn import views as webauthn_views
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .mfa import recently_reauthenticated_by_mfa
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


def mfa_reauthentication_required(view):
    """Removing an authenticator or making new recovery codes needs a second factor given in the last few
    minutes (``ropa.access.mfa.recently_reauthenticated_by_mfa``), not the password: whoever holds only the
    password, or an open session, cannot lower the bar. Otherwise: allauth's confirmation by code or key."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated and not recently_reauthenticated_by_mfa(request):
            methods = get_account_adapter(request).get_reauthentication_methods(request.user)
            if methods:
                return suspend_request(request, methods[0]["url"])
        return view(request, *args, **kwargs)

    return wrapper


@mfa_reauthentication_required
def remove_webauthn(request, pk):
    """allauth's key removal, which asks no adapter: the last second factor of a user who must have one stays."""
    key = get_object_or_404(Authenticator, pk=pk, user_id=request.user.pk, type=Authenticator.Type.WEBAUTHN)
    if request.method == "POST" and not get_mfa_adapter().can_delete_authenticator(key):
        messages.error(request, get_mfa_adapter().error_messages["cannot_delete_authenticator"])
        return redirect("mfa_list_webauthn")
    return webauthn_views.remove_webauthn(request, pk=pk)


deactivate_totp = mfa_reauthentication_required(totp_views.deactivate_totp)
generate_recovery_codes = mfa_reauthentication_required(recovery_codes_views.generate_recovery_codes)


def admin_user_password(request, id):
    """The admin's "set password" page of a user: for another user a DPO's action (the second factor stays); for
    oneself allauth's change-password page, which asks for the current password as the admin's form does not."""
    if str(request.user.pk) == str(id):
        return redirect("account_change_password")
    user_admin = admin.site.get_model_admin(get_user_model())
    return user_admin.user_change_password(request, id)
