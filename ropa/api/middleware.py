"""The API's body limit at the door: a request under ``/api/`` that declares more than
``ROPA_API_MAX_BODY_BYTES`` is answered with a JSON 413 before anything reads it, and a body sent chunked
(no Content-Length: the server decodes it and ends the stream) is read up to the limit, then handed on
as if its length had been declared. The parser (``ropa.api.parsers``) enforces the same limit on
whatever it reads."""

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import JsonResponse
from django.utils.translation import gettext as _

from .parsers import body_limit_detail

API_PREFIX = "/api/"


class ApiBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            refused = self._refused(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _refused(self, request) -> JsonResponse | None:
        limit = settings.ROPA_API_MAX_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                length = int(declared)
            except ValueError:
                return JsonResponse({"detail": _("Invalid Content-Length.")}, status=400)
            if length > limit:
                return JsonResponse({"detail": body_limit_detail()}, status=413)
            return None
        if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return None
        if not request.META.get("wsgi.input_terminated"):
            # The server passes the chunks on undecoded, with no end to read to.
            return JsonResponse({"detail": _("Send the body with a Content-Length.")}, status=411)
        body = request.META["wsgi.input"].read(limit + 1)
        if len(body) > limit:
            return JsonResponse({"detail": body_limit_detail()}, status=413)
        # From here on the request reads as one sent with its length (HttpRequest reads ``_stream``).
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        return None
