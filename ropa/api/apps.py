from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "ropa.api"
    label = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from . import schema, strict  # noqa: F401 - schema registers the token scheme with drf-spectacular

        strict.install()  # JSON bodies read with their JSON types
