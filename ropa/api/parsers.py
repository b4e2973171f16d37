"""JSON bodies with one size limit, ``ROPA_API_MAX_BODY_BYTES`` (8 MiB by default), answered as a JSON 413
that names it.

DRF (3.16+) hands a ``JSONParser`` subclass ``request.body``, which Django caps at
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (the admin's limit, 2.5 MiB) with an HTML 400. This parser is not one:
DRF gives it the request stream, which it reads up to the API's limit and no further. A body sent
chunked, without a Content-Length, is read within the same limit by ``ApiBodyLimitMiddleware``.
"""

import json

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, renderers, status
from rest_framework.parsers import BaseParser

from .strict import JsonObject

MIB = 1024 * 1024


def body_limit_text(limit: int) -> str:
    """``8 MiB``, ``512 KiB`` or ``10000 bytes``: the limit as an operator would set it."""
    if limit % MIB == 0:
        return f"{limit // MIB} MiB"
    if limit % 1024 == 0:
        return f"{limit // 1024} KiB"
    return f"{limit} bytes"


def body_limit_detail() -> str:
    return _("Request body exceeds the %(limit)s limit (ROPA_API_MAX_BODY_BYTES).") % {
        "limit": body_limit_text(settings.ROPA_API_MAX_BODY_BYTES)
    }


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("Request body too large.")
    default_code = "request_too_large"

    def __init__(self):
        super().__init__(body_limit_detail())


class LimitedJSONParser(BaseParser):
    """Strict JSON (no NaN or Infinity) of at most ``ROPA_API_MAX_BODY_BYTES``."""

    media_type = "application/json"
    renderer_class = renderers.JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.ROPA_API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            if declared and int(declared) > limit:
                raise RequestTooLarge()
        except ValueError:
            raise exceptions.ParseError(_("Invalid Content-Length.")) from None
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge()
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(_("JSON parse error: %s") % exc) from None
        except RecursionError:
            raise exceptions.ParseError(_("JSON nested too deeply.")) from None
        # The body as a JsonObject: the fields read it with its JSON types (ropa/api/strict.py).
        return JsonObject(data) if isinstance(data, dict) else data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")
