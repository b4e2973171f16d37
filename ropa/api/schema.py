"""How the API reads in its OpenAPI schema, and what keeps the schema true to the responses.

Every operation documents what it can answer besides its success: the error statuses come from what the
view is made of (a token to check, a role, a throttle, a body to parse, a path to look up, numbered pages,
a write that can conflict), each with its JSON shape, so that no view lists them by hand. A view adds only
what is its own (``@extend_schema(responses={409: OpenApiResponse(description=...)})``: the shape is filled
in here). Choice fields that can be blank or null say so, and query filters carry the limits their form
fields enforce, so that a value the schema allows is one the API takes.
"""

import copy

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON = "application/json"

# The header of a file download (register exports, subject packages): add to ``@extend_schema(parameters=)``.
ATTACHMENT = OpenApiParameter(
    "Content-Disposition",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[200],
    required=True,
    description='`attachment; filename="..."`: the name to save the file under.',
)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "ropa.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Token <token>`. Tokens are issued with `manage.py issue_token` or in the admin, shown once, "
                "and carry a role (dpo, auditor, system) and a scope."
            ),
        }


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


# The bodies of error responses. DRF's own errors (authentication, permission, not found, throttling,
# parse errors) and the project's (conflicts, body too large) are ``{"detail": "..."}``, sometimes with
# more keys (a conflict names what it conflicts with); a refused request is an object of field messages.
ERROR_SCHEMAS = {
    "Error": {
        "type": "object",
        "description": "Why the request was not carried out.",
        "properties": {"detail": {"type": "string", "description": "The reason, in words."}},
        "required": ["detail"],
    },
    "FieldErrors": {
        "description": (
            "Messages about one field: a list of messages, or, for a nested object or a list of rows, the same "
            "shape again keyed by field name or by the row's position."
        ),
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": _ref("schemas", "FieldErrors")},
            {"type": "object", "additionalProperties": _ref("schemas", "FieldErrors")},
        ],
    },
    "ValidationError": {
        "type": "object",
        "description": (
            "The request was refused and nothing was written. Each key names a field of the body or a query "
            "parameter; `non_field_errors` is about the body as a whole, `detail` about the request (e.g. JSON "
            "that does not parse)."
        ),
        "additionalProperties": _ref("schemas", "FieldErrors"),
        "example": {"ended_on": ["Give a date between 1900-01-01 and 2199-12-31."]},
    },
}

RETRY_AFTER = {
    "description": "Seconds to wait before the next request.",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
WWW_AUTHENTICATE = {
    "description": "The scheme to authenticate with: `Token`.",
    "required": True,
    "schema": {"type": "string"},
}

# Response components: (description, body schema, headers).
ERROR_RESPONSES = {
    400: (
        "BadRequest",
        "The body or a query parameter was refused: the messages name each field.",
        "ValidationError",
        {},
    ),
    401: (
        "Unauthorized",
        "No token, or a token that is unknown, revoked or expired.",
        "Error",
        {"WWW-Authenticate": WWW_AUTHENTICATE},
    ),
    403: ("Forbidden", "The token's role or scope does not allow this request.", "Error", {}),
    404: (
        "NotFound",
        "No such entry in the token's scope (or a page past the last).",
        "Error",
        {},
    ),
    409: (
        "Conflict",
        "The change conflicts with the register: an entry still in use, a legal hold or restriction in force, "
        "or a statutory retention it would weaken.",
        "Error",
        {},
    ),
    413: ("PayloadTooLarge", "The body is larger than the API takes (`ROPA_API_MAX_BODY_BYTES`).", "Error", {}),
    415: ("UnsupportedMediaType", "The body is not `application/json`.", "Error", {}),
    429: (
        "TooManyRequests",
        "Too many requests for this token (`ROPA_API_THROTTLE_RATE`) or address.",
        "Error",
        {"Retry-After": RETRY_AFTER},
    ),
}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's ``AutoSchema``, plus every operation's error responses and the blank or null
    value of a read-only choice field."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        self._register_error_components()
        responses = operation["responses"]
        for code in self.error_statuses(operation):
            responses.setdefault(str(code), _ref("responses", ERROR_RESPONSES[code][0]))
        for code, response in responses.items():
            self._complete_error_response(code, response)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_statuses(self, operation: dict) -> set[int]:
        """The error statuses this operation can answer, from what its view is made of."""
        view = self.view
        statuses: set[int] = set()
        if getattr(view, "authentication_classes", None):
            statuses.add(401)
        if getattr(view, "permission_classes", None):
            statuses.add(403)
        if getattr(view, "throttle_classes", None):
            statuses.add(429)
        parameters = operation.get("parameters", [])
        if any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters):
            statuses.add(404)
        if any(p["in"] == "query" for p in parameters):
            statuses.add(400)
        if "requestBody" in operation:
            statuses.update({400, 413, 415})
        if self.method in WRITE_METHODS:
            statuses.add(409)
        return statuses

    def _register_error_components(self):
        for name, schema in ERROR_SCHEMAS.items():
            self.registry.register_on_missing(
                ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)
            )
        for code, (name, description, body, headers) in ERROR_RESPONSES.items():
            response = {"description": description, "content": {JSON: {"schema": _ref("schemas", body)}}}
            if headers:
                response["headers"] = copy.deepcopy(headers)
            self.registry.register_on_missing(
                ResolvedComponent(name=name, type=ResolvedComponent.RESPONSE, schema=response, object=f"error-{code}")
            )

    @staticmethod
    def _complete_error_response(code: str, response: dict):
        """A 4xx that a view declared with a description only gets the JSON body (and headers) of its kind."""
        if "$ref" in response or not code.startswith("4") or response.get("content"):
            return
        known = ERROR_RESPONSES.get(int(code))
        body = known[2] if known else "Error"
        response["content"] = {JSON: {"schema": _ref("schemas", "ValidationError" if code == "400" else body)}}
        if known and known[3]:
            response.setdefault("headers", copy.deepcopy(known[3]))

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # DRF drops ``allow_blank`` from read-only fields of a ModelSerializer, yet the value read can be
        # blank: a choice field over a model field with blank=True or null=True lists "" or null too.
        if isinstance(field, serializers.ChoiceField) and field.read_only:
            model_field = _model_field(field)
            if model_field is not None:
                blank = model_field.blank and isinstance(model_field, models.CharField | models.TextField)
                if (blank and not field.allow_blank) or (model_field.null and not field.allow_null):
                    field = copy.copy(field)
                    field.allow_blank = field.allow_blank or blank
                    field.allow_null = field.allow_null or model_field.null
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # A list that DRF refuses empty says so.
        if (
            direction == "request"
            and isinstance(schema, dict)
            and schema.get("type") == "array"
            and isinstance(field, serializers.ListSerializer | serializers.ListField | serializers.ManyRelatedField)
            and not getattr(field, "allow_empty", True)
        ):
            schema.setdefault("minItems", 1)
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # Text the API takes never holds a NUL character: DRF refuses it (PostgreSQL could not store it).
        if isinstance(field, serializers.CharField) and not field.read_only:
            _forbid_nul(schema)


NO_NUL = "^[^\\x00]*$"


def _forbid_nul(schema: dict):
    if schema.get("type") == "string" and not {"pattern", "format", "enum"} & set(schema):
        schema["pattern"] = NO_NUL


def _model_field(field) -> models.Field | None:
    """The model field a serializer field reads, when its serializer is a ModelSerializer and its source one
    field of that model."""
    parent = getattr(field, "parent", None)
    model = getattr(getattr(parent, "Meta", None), "model", None)
    source = getattr(field, "source", None)
    if model is None or not source or "." in source or source == "*":
        return None
    try:
        return model._meta.get_field(source)
    except FieldDoesNotExist:  # a property or an annotation
        return None


class FilterBackendExtension(DjangoFilterExtension):
    """Query filters as the API reads them: an empty value filters on nothing, and a value is held to the
    limits of the filter's form field (length, range), which the API enforces with a 400."""

    target_class = "ropa.api.filters.FilterBackend"
    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        form_field = filter_field.field
        for parameter in parameters:
            parameter["allowEmptyValue"] = True
            schema = parameter["schema"]
            _forbid_nul(schema)
            if schema.get("type") == "string" and getattr(form_field, "max_length", None):
                schema.setdefault("maxLength", form_field.max_length)
            if schema.get("type") in ("integer", "number"):
                for attribute, keyword in (("min_value", "minimum"), ("max_value", "maximum")):
                    value = getattr(form_field, attribute, None)
                    if value is not None:
                        schema.setdefault(keyword, value)
        return parameters
