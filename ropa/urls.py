from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from retention.admin import retention_review_view

from .access.views import set_language
from .admin import register_completeness_view, register_export_view
from .health import healthz

# The admin has no login of its own: it sends to /accounts/login/, where the second factor is asked.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    # Register exports and completeness, in the admin (ropa/admin.py); before the admin's own catch-all.
    path("admin/register/export/", admin.site.admin_view(register_export_view), name="register-export"),
    path(
        "admin/register/completeness/",
        admin.site.admin_view(register_completeness_view),
        name="register-completeness",
    ),
    path("admin/retention/review/", admin.site.admin_view(retention_review_view), name="retention-review"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # The language picker in the admin header: Django's set_language, remembered on the user.
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/v1/", include("ropa.api.urls")),
]
