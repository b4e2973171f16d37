import os

from django.apps import AppConfig


class RopaConfig(AppConfig):
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
