from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BreachesConfig(AppConfig):
    name = "retention.breaches"
    label = "breaches"
    verbose_name = _("Breaches")
    default_auto_field = "django.db.models.BigAutoField"
