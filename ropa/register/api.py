"""The register as one document over the API: the ``ropa-register/1`` JSON and the export files."""

from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from processing.models import Controller
from ropa.api.mixins import ApiViewMixin
from ropa.api.roles import READERS
from ropa.api.schema import ATTACHMENT
from ropa.api.validators import DateField

from . import DELIMITERS, FORMATS, LANGUAGES, ExportError, export_register, register_document


class RegisterQuerySerializer(serializers.Serializer):
    controller = serializers.SlugField(
        max_length=64, required=False, help_text=_("Controller key; leave out for every controller in scope.")
    )
    as_of = DateField(required=False, help_text=_("The register as it stood at the end of this day."))
    lang = serializers.ChoiceField(choices=LANGUAGES, default="en", help_text=_("Language of wording and headings."))


class RegisterExportQuerySerializer(RegisterQuerySerializer):
    format = serializers.ChoiceField(choices=sorted(FORMATS), help_text=_("File format."))
    delimiter = serializers.ChoiceField(
        choices=DELIMITERS,
        default=",",
        help_text=_("CSV only: the field separator; ';' for spreadsheets set to Belgian, Dutch or French."),
    )

    def validate(self, attrs):
        if attrs["delimiter"] != "," and attrs["format"] != "csv":
            raise serializers.ValidationError({"delimiter": [_("A separator applies to CSV only.")]})
        return attrs


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
    """The register as one ``ropa-register/1`` document (docs/register-json.md): every controller in the token's
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
                delimiter=params["delimiter"],
            )
        except ExportError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return FileResponse(export.file, as_attachment=True, filename=export.filename, content_type=export.content_type)
