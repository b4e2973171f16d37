import os

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class RegisterAdminConfig(admin_apps.AdminConfig):
    """Django's admin with the register's site: the DPO's apps first, the technical ones under "System"."""

    default = False  # not the config of "ropa" itself
    default_site = "ropa.site.index.RegisterAdminSite"


class RopaConfig(AppConfig):
    default = True  # the app "ropa"; RegisterAdminConfig above is named on its own in INSTALLED_APPS
    name = "ropa"
    verbose_name = "Register"

    def ready(self) -> None:
        from .site import input as admin_input
        from .site import widgets as admin_widgets

        admin_widgets.install()  # a malformed id posted to an admin form is a form error, not a 500
        admin_input.install()  # list filters refuse unusable values; textareas are read with LF line ends
        # The file-system broker writes into folders that must exist before a worker starts.
        from django.conf import settings

        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        for key in ("data_folder_in", "data_folder_out", "processed_folder"):
            if key in options:
                os.makedirs(options[key], exist_ok=True)
