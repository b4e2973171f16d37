from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    """Who may see what in the admin: the DPO and Auditor groups, per-user controller scopes, languages."""

    name = "ropa.access"
    label = "access"
    verbose_name = _("Access and preferences")

    def ready(self):
        from . import signals  # noqa: F401 - connects the login receiver
        from .groups import groups_after_migrate
        from .mfa import connect_receivers
        from .sessions import connect as connect_session_ends
        from .sso import session  # noqa: F401 - connects the single sign-on login receiver

        connect_session_ends()
        connect_receivers()  # wrong codes count as failed logins; setting up an authenticator proves it

        # New models (and their permissions) appear with later migrations: keep the groups in step.
        post_migrate.connect(groups_after_migrate, dispatch_uid="ropa.access.groups")
