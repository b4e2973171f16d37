from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = _("Retention")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_delete, post_migrate, post_save, pre_delete, pre_save

        from . import beat, checks  # noqa: F401 - registers the system checks
        from .expiry import register_sqlite_functions
        from .models import RetentionRule

        connection_created.connect(register_sqlite_functions, dispatch_uid="retention.sqlite_functions")
        post_migrate.connect(beat.ensure_beat_entry, sender=self, dispatch_uid="retention.beat_entry")
        # Rules are few and change rarely; their records' expiry must follow whoever changed them (admin,
        # register import, API). The record tables themselves have no signals.
        post_save.connect(_rule_changed, sender=RetentionRule, dispatch_uid="retention.rule_saved")
        post_delete.connect(_rule_changed, sender=RetentionRule, dispatch_uid="retention.rule_deleted")
        # And whoever changes a rule, a statutory minimum that still keeps records is not weakened unless
        # the change says why (``services.rule_write_guard``).
        pre_save.connect(_rule_guard, sender=RetentionRule, dispatch_uid="retention.rule_guard_save")
        pre_delete.connect(_rule_guard, sender=RetentionRule, dispatch_uid="retention.rule_guard_delete")


def _rule_guard(sender, instance, raw=False, signal=None, **kwargs) -> None:
    if raw:
        return
    from django.db.models.signals import pre_delete

    from .services import rule_write_guard

    rule_write_guard(rule=instance, delete=signal is pre_delete)


def _rule_changed(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    from .services import rule_changed

    rule_changed(activity_id=instance.activity_id)
