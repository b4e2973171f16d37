"""What of API tokens the audit trail records (``ropa.audit.registry``): never the digest."""

from ropa.audit.models import AuditAction
from ropa.audit.registry import Audited, register


def _token_verb(created: bool, changed: list[str], instance) -> str:
    if created:
        return AuditAction.TOKEN_ISSUED
    return AuditAction.TOKEN_REVOKED if "revoked_at" in changed and instance.revoked_at else AuditAction.UPDATE


def _token_controller(token) -> int | None:
    # A system token has one controller; an auditor token of several (or of all) belongs to none alone.
    ids = token.controller_ids_cache or []
    return ids[0] if len(ids) == 1 else None


register(
    Audited(
        "api.ApiToken",
        values=frozenset({"name", "role", "source_system", "expiry", "user", "issued_by", "revoked_at", "revoked_by"}),
        ignore=frozenset({"digest", "token_key", "last_used_at", "controller_ids_cache"}),
        verb=_token_verb,
        id_field="token_key",
        controller=_token_controller,
    ),
)
