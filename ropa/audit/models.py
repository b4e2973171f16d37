"""The audit trail: who did what to the register, retention rules, legal holds, API tokens and requests.

Rows are written by ``ropa.audit.registry`` (saves and deletes of the audited models) and by
``ropa.audit.services.audit_log`` (anything else), and are never changed or deleted by the app.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ropa.kernel.dates import local_minute


class AuditAction(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    DELETE = "delete", _("deleted")
    HOLD_PLACED = "hold placed", _("hold placed")
    HOLD_RELEASED = "hold released", _("hold released")
    TOKEN_ISSUED = "token issued", _("token issued")
    TOKEN_REVOKED = "token revoked", _("token revoked")
    ERASURE = "erasure", _("erasure")
    EXPORT = "export", _("personal data exported")


class AuditEventQuerySet(models.QuerySet):
    def since(self, start):
        return self.filter(at__gte=start)

    def about_controllers(self, ids: set[int] | None):
        """The events a reader limited to the controllers ``ids`` may read: those about objects of those
        controllers; events about no single controller only when the reader is not limited (``None``)."""
        return self if ids is None else self.filter(controller_id__in=ids)


class ImmutableAuditEvent(Exception):
    """An audit event is written once and never changed or removed through the app."""


class AuditEvent(models.Model):
    """One action on an audited object: when, who (a user, an API token or a process), what, and which
    fields changed. Holds no personal data: for personal-data models only field names are kept."""

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True, help_text=_("When it happened."))
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        verbose_name=_("user"),
        help_text=_("The account that acted (an API token acts as its service account); blank for a process."),
    )
    # Kept when the controller is deleted (no constraint, nothing cascades): the evidence outlives it.
    controller = models.ForeignKey(
        "processing.Controller",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        verbose_name=_("controller"),
        help_text=_(
            "The controller the object belonged to when it happened; blank when it belongs to no single "
            "controller (a vocabulary entry, a sweep of all controllers, a token of several)."
        ),
    )
    actor_token = models.CharField(
        _("API token"),
        max_length=16,
        blank=True,
        help_text=_("Lookup key of the API token the request carried, if any (as listed under API tokens)."),
    )
    actor = models.CharField(
        _("actor"),
        max_length=200,
        db_index=True,
        help_text=_("Who acted, as it read then: a username, “token KEY name (role)”, “command:NAME”, “task:NAME”."),
    )
    action = models.CharField(
        _("action"), max_length=32, choices=AuditAction.choices, db_index=True, help_text=_("What was done.")
    )
    object_type = models.CharField(
        _("object type"), max_length=100, db_index=True, help_text=_("App and model, e.g. retention.legalhold.")
    )
    object_id = models.CharField(_("object id"), max_length=64, help_text=_("Primary key of the object."))
    object_repr = models.CharField(
        _("object"), max_length=200, help_text=_("How the object read at the time (no personal data).")
    )
    changed_fields = models.JSONField(
        _("changed fields"), default=list, blank=True, help_text=_("Names of the fields that changed.")
    )
    changes = models.JSONField(
        _("changes"),
        default=dict,
        blank=True,
        help_text=_("Old and new values, for register models only; never for personal-data models."),
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_event_object_idx")]

    def __str__(self) -> str:
        return f"{local_minute(self.at, seconds=True)} {self.actor} {self.action} {self.object_type} #{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableAuditEvent("Audit events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableAuditEvent("Audit events are never deleted.")
