"""``/api/v1/``: every app's router under one root, the OpenAPI schema, Swagger UI and ReDoc."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import routers

from processing.api.urls import router as register_router
from retention.api.urls import router as retention_router
from retention.breaches.api.urls import router as breaches_router
from ropa.api import docs, views
from ropa.api.throttling import AnonymousRateThrottle
from ropa.register import api as register_api
from subjects.api.urls import router as subjects_router


class Router(routers.DefaultRouter):
    APIRootView = views.ApiRootView
    include_format_suffixes = False


router = Router()
for app_router in (register_router, retention_router, subjects_router, breaches_router):
    router.registry.extend(app_router.registry)


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema of this API (JSON with ``?format=json``)."""

    authentication_classes = []
    throttle_classes = [AnonymousRateThrottle]


# Swagger UI: the split view serves its start-up script as a file, so the site-wide CSP (no inline script)
# holds. ReDoc: ropa/api/docs.py.

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("schema/swagger-ui/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-swagger-ui"),
    path("schema/redoc/", docs.redoc_view, name="api-redoc"),
    path("schema/redoc/redoc.standalone.js", docs.redoc_script, name="api-redoc-script"),
    path("token/", views.TokenView.as_view(), name="api-token"),
    path("register/", register_api.RegisterDocumentView.as_view(), name="api-register"),
    path("register/export/", register_api.RegisterExportView.as_view(), name="api-register-export"),
    path("", include(router.urls)),
    # Last: every other path that ends in a slash is a JSON 404 (one without goes on to APPEND_SLASH).
    re_path(r"^(?P<path>.*/)$", views.not_found),
]
