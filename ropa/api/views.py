"""The API's own routes: the root and the token's view of itself (the register's are in ropa.register.api)."""

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, routers, serializers
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from .mixins import ApiViewMixin
from .roles import Role


class ApiRootView(ApiViewMixin, routers.APIRootView):
    """Where to start: the schema and its two readers, the token's scope, the register document and its
    exports, then every endpoint by name. Open to anyone, like the schema."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    schema = None
    # Before the router's endpoints: what a newcomer reads first.
    start_here = {
        "schema": "api-schema",
        "swagger-ui": "api-swagger-ui",
        "redoc": "api-redoc",
        "token": "api-token",
        "register": "api-register",
        "register-export": "api-register-export",
    }

    def get(self, request, *args, **kwargs):
        endpoints = super().get(request, *args, **kwargs).data
        links = {key: reverse(name, request=request) for key, name in self.start_here.items()}
        return Response({**links, **endpoints})


@csrf_exempt  # as every API view: token authentication, no session (else a POST here is a CSRF 403 page)
def not_found(request, path=""):
    """Any other path under the API, such as an id the router cannot read (``/records/0.5/``): a JSON 404,
    as the API's own 404s are, rather than Django's HTML page."""
    return JsonResponse({"detail": str(_("Not found."))}, status=404)


class TokenView(ApiViewMixin, APIView):
    """What the token in the request may do: its role, controllers, source system and expiry."""

    @extend_schema(
        responses=inline_serializer(
            "TokenScope",
            {
                "name": serializers.CharField(),
                "role": serializers.ChoiceField(choices=Role.choices),
                "controllers": serializers.ListField(
                    child=serializers.CharField(), allow_null=True, help_text=_("Controller keys; null: every one.")
                ),
                "source_system": serializers.CharField(allow_null=True),
                "expiry": serializers.DateTimeField(allow_null=True),
            },
        )
    )
    def get(self, request):
        token = self.token
        controllers = None
        if token.controller_ids is not None:
            controllers = list(token.controllers.order_by("key").values_list("key", flat=True))
        return Response(
            {
                "name": token.name,
                "role": token.role,
                "controllers": controllers,
                "source_system": token.source_system or None,
                "expiry": serializers.DateTimeField().to_representation(token.expiry) if token.expiry else None,
            }
        )
