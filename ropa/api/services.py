"""Issuing and revoking API tokens. The admin and ``manage.py issue_token`` both call these."""

import datetime as dt
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from processing.models import Controller
from processing.rules import Problem, raise_problems
from ropa.access.scope import visible_controller_ids
from subjects.models import PersonalDataRecord

from .models import ApiToken
from .roles import Role, scope_problems

MAX_TOKEN_DAYS = 3650


def default_token_days() -> int:
    return settings.REST_KNOX["TOKEN_TTL"].days


def service_username(*, role: str, controllers, source_system: str) -> str:
    """``api.system.voiceking.crm``: the account a token acts as, so the history names the system."""
    parts = ["api", role, *sorted(c.key for c in controllers)]
    if source_system:
        parts.append(source_system)
    return re.sub(r"[^\w.@+-]", "-", ".".join(parts))[:150]


def token_scope_problems(
    *, role: str, controllers: list[Controller], source_system: str, actor=None
) -> list[Problem]:
    """The pure scope rule, plus one fact from the database: a source system belongs to one controller.
    Record ids are unique per source system across the register, so two controllers sharing a system name
    would see (and overwrite) each other's records. Then, for a token ``actor`` issues, that it reaches no
    further than the actor (``issuer_scope_problems``)."""
    source_system = (source_system or "").strip()
    problems = scope_problems(role=role, controller_count=len(controllers), source_system=source_system)
    if role == Role.SYSTEM and source_system and len(controllers) == 1:
        controller = controllers[0]
        other_tokens = ApiToken.objects.filter(role=Role.SYSTEM, source_system=source_system).exclude(
            controllers=controller
        )
        other_records = PersonalDataRecord.objects.filter(source_system=source_system).exclude(
            activity__controller=controller
        )
        if other_tokens.exists() or other_records.exists():
            problems.append(
                Problem(
                    "source_system",
                    f"The source system “{source_system}” already belongs to another controller; name it apart.",
                )
            )
    return problems or issuer_scope_problems(actor=actor, role=role, controllers=controllers)


def issuer_scope_problems(*, actor, role: str, controllers: list[Controller]) -> list[Problem]:
    """A token never reaches further than the user issuing it: a user limited to some controllers issues only
    tokens bound to some of them (no DPO token, which covers every controller, nor an auditor token with no
    controller, which means every one)."""
    ids = visible_controller_ids(actor) if actor is not None else None
    if ids is None:
        return []
    if role == Role.DPO:
        return [Problem("role", _("A DPO token covers every controller; you are limited to some."))]
    if not controllers or any(c.pk not in ids for c in controllers):
        return [Problem("controllers", _("Choose among your own controllers: the token cannot reach further."))]
    return []


@transaction.atomic
def api_token_issue(
    *,
    role: str,
    name: str,
    controllers: list[Controller] | tuple = (),
    source_system: str = "",
    user=None,
    days: int | None = None,
    actor=None,
) -> tuple[ApiToken, str]:
    """Issue a token and return it with its plaintext, which is never stored and cannot be shown again.

    Without ``user`` the token acts as a service account named after its scope (created once, with no
    password), so that the version history says which system changed what.
    """
    controllers = list(controllers)
    source_system = (source_system or "").strip()
    raise_problems(token_scope_problems(role=role, controllers=controllers, source_system=source_system, actor=actor))
    days = default_token_days() if days is None else days
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise_problems([Problem("days", f"A token lives between 1 and {MAX_TOKEN_DAYS} days.")])
    if user is None:
        User = get_user_model()
        username = service_username(role=role, controllers=controllers, source_system=source_system)
        user, created = User.objects.get_or_create(username=username, defaults={"is_active": True})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    token, plaintext = ApiToken.objects.create(
        user=user,
        expiry=dt.timedelta(days=days),
        name=(name or "").strip() or f"{role} token",
        role=role,
        source_system=source_system if role == Role.SYSTEM else "",
        issued_by=actor,
        controller_ids_cache=sorted(c.pk for c in controllers),
    )
    token.controllers.set(controllers)
    return token, plaintext


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor=None) -> ApiToken:
    """Revoke a token: it stops authenticating at once and stays listed, with who revoked it and when."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
    return token
