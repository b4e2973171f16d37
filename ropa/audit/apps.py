from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "ropa.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        from . import context, signals

        signals.connect_all()
        # A Celery task acts as "task:NAME" (e.g. task:retention.enforce).
        task_prerun.connect(context.task_started, dispatch_uid="audit:task_prerun", weak=False)
        task_postrun.connect(context.task_finished, dispatch_uid="audit:task_postrun", weak=False)
