"""allauth's OpenID Connect login and callback views, run with the register's adapter (``provider``).

allauth's own views build its stock adapter; these differ only in the adapter, and in answering an IdP that
cannot be reached, or whose discovery document names another issuer, with the login-failure page, not a 500.
"""

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.http import Http404
from requests import RequestException

from .provider import RegisterOIDCAdapter


def _run(view_class, request, provider_id):
    adapter = RegisterOIDCAdapter(request, provider_id)
    try:
        return view_class.adapter_view(adapter)(request)
    except SocialApp.DoesNotExist as exc:  # single sign-on is not configured, or not with this provider id
        raise Http404 from exc
    except (OAuth2Error, RequestException) as exc:
        return render_authentication_error(request, adapter.get_provider(), exception=exc)


@login_not_required
def login(request, provider_id):
    return _run(OAuth2LoginView, request, provider_id)


@login_not_required
def callback(request, provider_id):
    return _run(OAuth2CallbackView, request, provider_id)
