"""What every API view shares: token authentication, roles, scoped querysets, limits, errors, and writes
that go through the domain services."""

from functools import reduce

from django.db.models import Q
from rest_framework import exceptions, mixins, viewsets
from rest_framework.renderers import JSONRenderer

from .authentication import ApiTokenAuthentication
from .exceptions import api_exception_handler
from .filters import FilterBackend
from .models import ApiToken
from .pagination import RegisterPagination
from .parsers import LimitedJSONParser
from .permissions import RolePermission
from .roles import ALL_ROLES, DPO_ONLY
from .throttling import AnonymousRateThrottle, AuthFailureThrottle, TokenRateThrottle


def _follow(obj, path: str):
    for part in path.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def scope_queryset(queryset, token, *, controller_field: str | None, source_system_field: str | None = None):
    """Narrow ``queryset`` to what ``token`` may see: its controllers and, for a system, its source system."""
    if not isinstance(token, ApiToken):
        return queryset.none()
    if controller_field and token.controller_ids is not None:
        queryset = queryset.filter(**{f"{controller_field}__in": sorted(token.controller_ids)})
    if source_system_field and token.is_system:
        queryset = queryset.filter(**{source_system_field: token.source_system})
    return queryset


def any_of(*conditions: Q) -> Q:
    return reduce(lambda a, b: a | b, conditions)


class ApiViewMixin:
    """Token authentication, the role permission, per-token throttling, JSON with a size limit.

    Subclasses name the roles that may read (``read_roles``) and write (``write_roles``), and where the
    controller (``controller_field``) and source system (``source_system_field``) of a row are, so that
    both the queryset and each object are scoped to the token.
    """

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [RolePermission]
    throttle_classes = [TokenRateThrottle, AnonymousRateThrottle]
    filter_backends = [FilterBackend]
    parser_classes = [LimitedJSONParser]
    renderer_classes = [JSONRenderer]
    read_roles = ALL_ROLES
    write_roles = DPO_ONLY
    action_roles: dict[str, frozenset[str]] = {}
    controller_field: str | None = "controller_id"
    source_system_field: str | None = None

    def get_exception_handler(self):
        return api_exception_handler

    def initial(self, request, *args, **kwargs):
        # Before authentication: an address that keeps sending bad or no tokens is refused with a 429.
        throttle = AuthFailureThrottle()
        if not throttle.allow_request(request, self):
            self.throttled(request, throttle.wait())
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
            AuthFailureThrottle().record_failure(self.request, self)
        return super().handle_exception(exc)

    @property
    def token(self) -> ApiToken | None:
        auth = getattr(self.request, "auth", None)
        return auth if isinstance(auth, ApiToken) else None

    def get_queryset(self):
        return scope_queryset(
            super().get_queryset(),
            self.token,
            controller_field=self.controller_field,
            source_system_field=self.source_system_field,
        )

    def object_in_scope(self, token: ApiToken, obj) -> bool:
        if self.controller_field and not token.allows_controller(_follow(obj, self.controller_field)):
            return False
        return not (self.source_system_field and not token.allows_source_system(_follow(obj, self.source_system_field)))


class ServiceWritesMixin:
    """``perform_create`` / ``perform_update`` hand the validated data to the viewset's ``save_service``,
    the same function the admin's ``save_model`` calls; the serializer only parses and shapes."""

    def save_service(self, *, instance, data: dict, actor):  # pragma: no cover - each viewset says
        raise NotImplementedError

    def perform_create(self, serializer):
        serializer.instance = self.save_service(instance=None, data=serializer.validated_data, actor=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = self.save_service(
            instance=serializer.instance, data=serializer.validated_data, actor=self.request.user
        )


class RegisterViewSet(ApiViewMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """Base of the register endpoints: numbered pages, every role reads (in scope), the DPO writes."""

    pagination_class = RegisterPagination
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class ReadOnlyRegisterViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    pagination_class = RegisterPagination


__all__ = ["ApiViewMixin", "ReadOnlyRegisterViewSet", "RegisterViewSet", "ServiceWritesMixin", "mixins"]
