"""API tokens and the scope each one grants.

Knox keeps the token itself: only a SHA-512 digest and a 15-character lookup key are stored, each
token has an expiry, and the plaintext is shown once when it is issued. Knox has no notion of scope,
so this model extends knox's abstract token (``KNOX_TOKEN_MODEL``) with the role, the controllers and
the source system; one table, one admin page, and revocation keeps the row as evidence.
"""

import datetime as dt
from functools import cached_property

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken, AuthTokenManager

from processing.models import Controller
from ropa.audit.context import Actor

from .roles import Role

# Writing ``last_used_at`` on every request would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now):
        return self.filter(revoked_at__isnull=True).filter(models.Q(expiry__isnull=True) | models.Q(expiry__gt=now))


class ApiToken(AbstractAuthToken):
    """A hashed API token (knox) with its scope: a role, the controllers it may see, and for an internal
    system the one source system whose records it registers. Revoked, never silently deleted."""

    name = models.CharField(_("name"), max_length=200, help_text=_("What the token is for, e.g. “CRM production”."))
    role = models.CharField(
        _("role"), max_length=16, choices=Role.choices, help_text=_("What the token may read and write.")
    )
    controllers = models.ManyToManyField(
        Controller,
        blank=True,
        related_name="api_tokens",
        verbose_name=_("controllers"),
        help_text=_("Auditor: the controllers it may read (none: every controller). System: exactly one. DPO: none."),
    )
    controller_ids_cache = models.JSONField(
        _("controller ids"),
        default=list,
        editable=False,
        help_text=_("The controllers above, copied when the token is issued (a scope never changes afterwards)."),
    )
    source_system = models.CharField(
        _("source system"),
        max_length=100,
        blank=True,
        help_text=_("System tokens only: the source system whose records the token registers and reads."),
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
        help_text=_("Who issued the token (blank: a management command)."),
    )
    last_used_at = models.DateTimeField(
        _("last used at"), null=True, blank=True, help_text=_("Last request made with the token (to the minute).")
    )
    revoked_at = models.DateTimeField(
        _("revoked at"), null=True, blank=True, help_text=_("When the token was revoked; it no longer authenticates.")
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
        help_text=_("Who revoked the token."),
    )

    # knox's manager creates the token (random, hashed, with its expiry); the queryset adds ``usable()``.
    objects = AuthTokenManager.from_queryset(ApiTokenQuerySet)()

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["role", "source_system"], name="api_token_scope_idx")]

    def audit_actor(self) -> Actor:
        """Who acts in the audit trail when a request carries this token."""
        label = f"token {self.token_key} {self.name} ({self.role})"[:200]
        return Actor(label=label, user=self.user, token_key=self.token_key)

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"

    @property
    def is_dpo(self) -> bool:
        return self.role == Role.DPO

    @property
    def is_system(self) -> bool:
        return self.role == Role.SYSTEM

    @cached_property
    def controller_ids(self) -> frozenset[int] | None:
        """The controllers in scope, or ``None`` for every controller."""
        if self.role == Role.DPO:
            return None
        # Read with the token itself: authentication stays one query.
        ids = frozenset(self.controller_ids_cache)
        if self.role == Role.AUDITOR and not ids:
            return None
        # A system token without its controller sees nothing rather than everything.
        return ids

    def allows_controller(self, controller_id: int | None) -> bool:
        ids = self.controller_ids
        return ids is None or controller_id in ids

    def allows_source_system(self, source_system: str) -> bool:
        return self.role != Role.SYSTEM or source_system == self.source_system

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.revoked_at:
            return "revoked"
        if self.expiry and self.expiry <= now:
            return "expired"
        return "active"
