from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from retention.admin import retention_review_view

from .access import views as access_views
from .access.views import set_language
from .site.exports import register_completeness_view, register_export_view
from .site.health import healthz


class FaviconView(RedirectView):
    """The site's icon, under its stored name (hashed once collected), looked up when asked for."""

    permanent = False

    def get_redirect_url(self, *args, **kwargs):
        return static("ropa/favicon.svg")


# The admin has no login of its own: it sends to /accounts/login/, where the second factor is asked.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the API's JSON, for one).
    path("favicon.ico", FaviconView.as_view()),
    # Register exports and completeness, in the admin (ropa/site/exports.py); before the admin's own catch-all.
    path("admin/register/export/", admin.site.admin_view(register_export_view), name="register-export"),
    path(
        "admin/register/completeness/",
        admin.site.admin_view(register_completeness_view),
        name="register-completeness",
    ),
    path("admin/retention/review/", admin.site.admin_view(retention_review_view), name="retention-review"),
    # The admin's "Change password" is allauth's page, which keeps the second factor and the lock-out in view.
    path("admin/password_change/", RedirectView.as_view(pattern_name="account_change_password", permanent=False)),
    path("admin/auth/user/<id>/password/", admin.site.admin_view(access_views.admin_user_password)),
    path("admin/", admin.site.urls),
    # allauth's pages that remove a second factor (or renew the recovery codes) ask for a fresh one first;
    # before allauth's own patterns, which they stand in for.
    path("accounts/2fa/totp/deactivate/", access_views.deactivate_totp, name="mfa_deactivate_totp"),
    path("accounts/2fa/webauthn/keys/<int:pk>/remove/", access_views.remove_webauthn, name="mfa_remove_webauthn"),
    path(
        "accounts/2fa/recovery-codes/generate/",
        access_views.generate_recovery_codes,
        name="mfa_generate_recovery_codes",
    ),
    path("accounts/", include("allauth.urls")),
    # The language picker in the admin header: Django's set_language, remembered on the user.
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/", RedirectView.as_view(url="/api/v1/", permanent=False)),
    path("api/v1/", include("ropa.api_urls")),
]
