"""The API's reference pages, served by the app alone: ReDoc without a byte from another origin.

drf-spectacular-sidecar ships ReDoc's script; the script itself shows Redocly's logo from their CDN,
which the site's Content-Security-Policy refuses (a console error on every visit). The page gets the same
script with that one address pointing at a copy of the wordmark here, and its template has no web fonts.
"""

from functools import cache
from importlib.resources import files

from csp.decorators import csp_update
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from drf_spectacular.views import SpectacularRedocView

REDOC_SCRIPT = "static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def _redoc_script() -> bytes:
    script = (files("drf_spectacular_sidecar") / REDOC_SCRIPT).read_bytes()
    return script.replace(REDOC_LOGO.encode(), static("ropa/redoc-logo.svg").encode())


def redoc_script(request) -> HttpResponse:
    """ReDoc's standalone script, its logo served from here."""
    response = HttpResponse(_redoc_script(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


class RedocView(SpectacularRedocView):
    """ReDoc on our template (no web fonts, the site's icon) with the script above."""

    template_name = "api/redoc.html"

    @staticmethod
    def _redoc_standalone():
        return reverse("api-redoc-script")


# ReDoc renders in a web worker started from a blob: URL; only its page allows that.
redoc_view = csp_update({"worker-src": ["'self'", "blob:"]})(RedocView.as_view(url_name="api-schema"))
