"""The admin site's index and sidebar in the order a DPO works: the register, retention, data subjects
and the audit trail first, then everything technical (users and groups, sign-in and lock-out records,
tokens, periodic tasks, sessions) in one "System" section."""

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# App labels, in the order they are shown; every other app's models go to "System".
DPO_APPS = ("processing", "retention", "subjects", "breaches", "audit")
# Models whose app names them without a translatable name (allauth derives these from the class name).
NAMES = {
    "mfa.authenticator": _("Authenticators"),
    "usersessions.usersession": _("User sessions"),
    "socialaccount.socialaccount": _("Social accounts"),
}


class RegisterAdminSite(admin.AdminSite):
    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label is not None:  # one app's own index page: as Django shows it
            return apps
        first = sorted(
            (app for app in apps if app["app_label"] in DPO_APPS), key=lambda a: DPO_APPS.index(a["app_label"])
        )
        technical = [_named(model) for app in apps if app["app_label"] not in DPO_APPS for model in app["models"]]
        if not technical:
            return first
        system = {
            "name": _("System"),
            "app_label": "system",
            "app_url": reverse("admin:index", current_app=self.name) + "#system",
            "has_module_perms": True,
            "models": sorted(technical, key=lambda model: str(model["name"]).casefold()),
        }
        return [*first, system]


def _named(model: dict) -> dict:
    name = NAMES.get(model["model"]._meta.label_lower)
    return {**model, "name": name} if name else model
