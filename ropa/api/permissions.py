"""Roles on every route, and the object-level scope check behind them."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .models import ApiToken


class RolePermission(BasePermission):
    """Allow a request when the token's role may make it, and an object when it lies in the token's scope.

    A view declares ``read_roles`` and ``write_roles`` (and per action ``action_roles``); it answers the
    object question with ``object_in_scope(token, obj)``. Querysets are scoped as well, so an object
    out of scope is a 404 before this check is ever reached; this check is the second lock.
    """

    message = "Your token's role does not allow this request."

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            return False
        return token.role in allowed_roles(request, view)

    def has_object_permission(self, request, view, obj):
        token = request.auth
        return isinstance(token, ApiToken) and view.object_in_scope(token, obj)


def allowed_roles(request, view) -> frozenset[str]:
    action_roles = getattr(view, "action_roles", {})
    action = getattr(view, "action", None)
    if action in action_roles:
        return action_roles[action]
    if request.method in SAFE_METHODS:
        return view.read_roles
    return view.write_roles
