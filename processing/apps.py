from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcessingConfig(AppConfig):
    name = "processing"
    verbose_name = _("Register of processing activities")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import beat

        post_migrate.connect(beat.ensure_beat_entry, sender=self, dispatch_uid="processing.beat_entry")
