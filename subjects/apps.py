from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubjectsConfig(AppConfig):
    name = "subjects"
    verbose_name = _("Data subjects")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import beat

        post_migrate.connect(beat.ensure_beat_entry, sender=self, dispatch_uid="subjects.beat_entry")
