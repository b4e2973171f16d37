"""Pure rules on the claims an identity provider asserts: which role and controllers they give, whether the
login shows a second factor. No ORM, no settings: the caller passes the configuration in."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# A controllers claim holding this value gives every controller, those added later too.
ALL_CONTROLLERS = "*"

# RFC 8176 methods. "mfa" and "mca" state a multi-factor (multi-channel) login outright. The others are
# possession or inherence factors: paired with a second, distinct method they make two factors.
MULTI_FACTOR_AMR = frozenset({"mfa", "mca"})
SECOND_FACTOR_AMR = frozenset({"otp", "hwk", "swk", "sc", "sms", "tel", "pop", "fpt", "face", "iris", "retina", "vbm"})


@dataclass(frozen=True)
class SsoGrant:
    """What the IdP gives a user here. ``controllers``: None when no controllers claim is configured (the
    scope set in the admin is kept); ``all_controllers``: the claim named ``ALL_CONTROLLERS``."""

    groups: frozenset[str]
    controllers: frozenset[str] | None = None
    all_controllers: bool = False


def claim_values(claims: Mapping, name: str) -> list[str]:
    """The values of claim ``name``: a list, or a single string (one value). A name with dots that is not a
    claim itself is a path into nested claims, e.g. Keycloak's ``realm_access.roles``."""
    if name in claims:
        value = claims[name]
    else:
        value = claims
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def sso_grant(
    claims: Mapping, *, roles_claim: str, role_map: Mapping[str, Iterable[str]], controllers_claim: str = ""
) -> SsoGrant:
    """The groups that the roles claim's values map to and, when a controllers claim is configured, the
    controller keys it names: absent or empty, none at all (a mapped role alone gives no controller)."""
    groups = frozenset(group for value in claim_values(claims, roles_claim) for group in role_map.get(value, ()))
    if not controllers_claim:
        return SsoGrant(groups=groups)
    keys = frozenset(claim_values(claims, controllers_claim))
    if ALL_CONTROLLERS in keys:
        return SsoGrant(groups=groups, all_controllers=True)
    return SsoGrant(groups=groups, controllers=keys)


def authentication_strength(
    id_token: Mapping, *, require_amr: Iterable[str] = (), require_acr: Iterable[str] = ()
) -> tuple[bool, bool]:
    """(accepted, mfa) for the ID token's ``amr`` and ``acr``.

    With requirements configured, the login is accepted only when the amr holds one of ``require_amr`` and
    the acr is one of ``require_acr`` (each when given); the operator named what a second factor is, so an
    accepted login counts as MFA. Without, every login is accepted and counts as MFA when the amr shows it:
    "mfa"/"mca", or two distinct methods of which one is a possession or inherence factor."""
    amr = {value for value in id_token.get("amr") or () if isinstance(value, str)}
    acr = id_token.get("acr") or ""
    require_amr, require_acr = set(require_amr), set(require_acr)
    if require_amr or require_acr:
        accepted = (not require_amr or bool(amr & require_amr)) and (not require_acr or acr in require_acr)
        return accepted, accepted
    return True, bool(amr & MULTI_FACTOR_AMR) or (len(amr) >= 2 and bool(amr & SECOND_FACTOR_AMR))
