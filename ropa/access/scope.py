"""Which controllers a user may see: one answer that every admin list, page and view applies."""

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


def may_see_personal_data(user) -> bool:
    """A record's payload and a subject's identifiers are shown to the DPO only, on their own page."""
    return user.has_perm(DPO_CHANGE_PERMISSION)
