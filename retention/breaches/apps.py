from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BreachesConfig(AppConfig):
    name = "retention.breaches"
    label = "breaches"
    verbose_name = _("Breaches")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import beat

        post_migrate.connect(beat.ensure_beat_entry, sender=self, dispatch_uid="breaches.beat_entry")
