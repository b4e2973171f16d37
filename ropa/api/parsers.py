"""JSON bodies with a size limit. Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` does not cover a stream
that DRF reads itself, so the limit is enforced here, before anything is parsed."""

import json

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("Request body too large.")
    default_code = "request_too_large"


class LimitedJSONParser(JSONParser):
    """Strict JSON (no NaN or Infinity) of at most ``ROPA_API_MAX_BODY_BYTES``."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.ROPA_API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        too_large = RequestTooLarge(_("Request body larger than %(limit)d bytes.") % {"limit": limit})
        try:
            if declared and int(declared) > limit:
                raise too_large
        except ValueError:
            raise exceptions.ParseError(_("Invalid Content-Length.")) from None
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise too_large
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(_("JSON parse error: %s") % exc) from None
        except RecursionError:
            raise exceptions.ParseError(_("JSON nested too deeply.")) from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")
