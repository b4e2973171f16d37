"""Which controllers a user may see: one answer that every admin list, page and view applies."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

DPO_CHANGE_PERMISSION = "subjects.change_personaldatarecord"


def visible_controller_ids(user) -> frozenset[int] | None:
    """The ids of the controllers ``user`` is limited to, or ``None`` when the user is not limited.
    Read once per request (cached on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_ropa_controller_ids", False)
    if cached is not False:
        return cached
    from .models import ControllerAccess

    access = ControllerAccess.objects.filter(user=user).first()
    ids = None if access is None else frozenset(access.controllers.values_list("pk", flat=True))
    user._ropa_controller_ids = ids
    return ids


def scope_q(user, *paths: str) -> Q | None:
    """A filter keeping objects reachable from one of the user's controllers through any of ``paths``
    (``"controller"``, ``"activity__controller"``, ...); ``None`` when the user is not limited."""
    ids = visible_controller_ids(user)
    if ids is None:
        return None
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{path}__in": ids}) if path != "pk" else Q(pk__in=ids)
    return condition


def scoped(queryset: QuerySet, user, *paths: str) -> QuerySet:
    condition = scope_q(user, *paths)
    return queryset if condition is None else queryset.filter(condition)


def users_within_q(user) -> Q | None:
    """The accounts a limited ``user`` may see and edit: those that reach no controller beyond ``user``'s.

    An account reaches the controllers of its ``ControllerAccess`` (none: every controller) and of each of
    its API tokens (a DPO token, or an auditor token of no controller: every controller). So a limited DPO
    sees the people limited to some of the same controllers and the service accounts of their own
    controllers' tokens, and never a superuser nor an unlimited account: editing those would let them act
    beyond their controllers. ``None`` when ``user`` is not limited."""
    ids = visible_controller_ids(user)
    if ids is None:
        return None
    from .models import ControllerAccess

    # The tokens through their users (``auth_token_set``): the API's tokens are a tier above the scopes.
    tokens = get_user_model().objects.filter(auth_token_set__isnull=False)
    by_token, beyond = set(), set()
    for user_id, controllers in tokens.values_list("pk", "auth_token_set__controller_ids_cache").iterator():
        (by_token if controllers and ids.issuperset(controllers) else beyond).add(user_id)
    rows_beyond = ControllerAccess.controllers.through.objects.exclude(controller_id__in=ids)
    return (
        Q(is_superuser=False)
        & (Q(controller_access__isnull=False) | Q(pk__in=by_token))
        & ~Q(pk__in=beyond)
        & ~Q(controller_access__in=rows_beyond.values("controlleraccess_id"))
    )


def may_see_personal_data(user) -> bool:
    """A record's payload and a subject's identifiers are shown to the DPO only, on their own page."""
    return user.has_perm(DPO_CHANGE_PERMISSION)
