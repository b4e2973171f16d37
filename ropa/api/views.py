"""The API's own routes: the root, the token's view of itself, and the register as one document."""

from django.http import FileResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, routers, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from processing.models import Controller
from ropa.exports import FORMATS, LANGUAGES, ExportError, export_register, register_document

from .mixins import ApiViewMixin
from .roles import READERS, Role
from .schema import ATTACHMENT
from .validators import DateField


class ApiRootView(ApiViewMixin, routers.APIRootView):
    """The endpoints of the API, by name. Open to anyone, like the schema."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    schema = None


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


class RegisterQuerySerializer(serializers.Serializer):
    controller = serializers.SlugField(
        max_length=64, required=False, help_text=_("Controller key; leave out for every controller in scope.")
    )
    as_of = DateField(required=False, help_text=_("The register as it stood at the end of this day."))
    lang = serializers.ChoiceField(choices=LANGUAGES, default="en", help_text=_("Language of wording and headings."))


class RegisterExportQuerySerializer(RegisterQuerySerializer):
    format = serializers.ChoiceField(choices=sorted(FORMATS), help_text=_("File format."))


class IgnoreFormatNegotiation(DefaultContentNegotiation):
    """``?format=`` names the export's file format here, not a DRF renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class RegisterViewMixin(ApiViewMixin):
    def register_scope(self, params: dict):
        """The controllers to export: the one asked for (404 when out of scope), or every one in scope."""
        token = self.token
        key = params.get("controller")
        if key:
            controller = Controller.objects.filter(key=key).first()
            if controller is None or not token.allows_controller(controller.pk):
                raise NotFound(_("No controller “%s” in this token's scope.") % key)
            return controller
        if token.controller_ids is None:
            return None
        return sorted(token.controller_ids)


class RegisterDocumentView(RegisterViewMixin, APIView):
    """The register as one ``ropa-register/1`` document (REGISTER_JSON.md): every controller in the token's
    scope, or the one named by ``?controller=``; as it stands now, or ``?as_of=`` a past date."""

    @extend_schema(
        parameters=[RegisterQuerySerializer],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="A ropa-register/1 document.")},
    )
    def get(self, request):
        query = RegisterQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        try:
            document = register_document(
                controller=self.register_scope(params), as_of=params.get("as_of"), lang=params["lang"]
            )
        except ExportError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(document)


class RegisterExportView(RegisterViewMixin, APIView):
    """The register as a file: XLSX in the Belgian DPA layout, CSV, PDF or JSON, for every controller in
    scope or one, now or as of a past date. DPO and auditor tokens."""

    read_roles = READERS
    content_negotiation_class = IgnoreFormatNegotiation

    @extend_schema(
        parameters=[RegisterExportQuerySerializer, ATTACHMENT],
        responses={
            (200, FORMATS[fmt][0].split(";")[0]): OpenApiResponse(
                OpenApiTypes.OBJECT if fmt == "json" else OpenApiTypes.BINARY,
                description="The export file, as an attachment, in the type `format` names.",
            )
            for fmt in sorted(FORMATS)
        },
    )
    def get(self, request):
        query = RegisterExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        try:
            export = export_register(
                fmt=params["format"],
                controller=self.register_scope(params),
                as_of=params.get("as_of"),
                lang=params["lang"],
            )
        except ExportError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return FileResponse(export.file, as_attachment=True, filename=export.filename, content_type=export.content_type)
