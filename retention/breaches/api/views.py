"""``/api/v1/breaches/``: a security tool reports a suspected breach with its system token (its own
controller only; idempotent on its ``external_reference``) and reads where it stands. Everything else
is the DPO's, in the admin."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from processing.models import Controller
from ropa.api.mixins import ApiViewMixin
from ropa.api.pagination import RegisterPagination
from ropa.api.roles import ALL_ROLES, Role

from .. import services
from ..models import Breach
from . import serializers

DPO_OR_SYSTEM = frozenset({Role.DPO, Role.SYSTEM})


class BreachViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Personal-data breaches (Art. 33): reported by a system (or the DPO), read by every token of the
    controller."""

    queryset = Breach.objects.select_related("controller")
    serializer_class = serializers.BreachSerializer
    pagination_class = RegisterPagination
    controller_field = "controller_id"
    read_roles = ALL_ROLES
    write_roles = DPO_OR_SYSTEM
    http_method_names = ["get", "post", "head", "options"]

    def _controller(self, data) -> Controller:
        token = self.token
        if token.is_system:
            (controller_id,) = token.controller_ids
            controller = Controller.objects.get(pk=controller_id)
            if data.get("controller") and data["controller"] != controller.key:
                raise ApiValidationError({"controller": ["A system token reports for its own controller only."]})
            return controller
        if not data.get("controller"):
            raise ApiValidationError({"controller": ["Name the controller (its key)."]})
        controller = Controller.objects.filter(key=data["controller"]).first()
        if controller is None or not token.allows_controller(controller.pk):
            raise ApiValidationError({"controller": ["No controller “{}”.".format(data["controller"])]})
        return controller

    @extend_schema(request=serializers.BreachReportSerializer, responses={201: serializers.BreachSerializer})
    def create(self, request, *args, **kwargs):
        """Report a (suspected) breach; 201 when new, 200 with the same breach when its reference is known."""
        body = serializers.BreachReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        breach, created = services.breach_report(
            controller=self._controller(data),
            title=data["title"],
            aware_at=data["aware_at"],
            natures=data.get("natures", []),
            description=data.get("description", ""),
            external_reference=data["external_reference"],
            reported_by=self.token.source_system if self.token.is_system else "api",
        )
        shown = self.get_serializer(breach).data
        return Response(shown, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
