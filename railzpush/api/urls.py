"""/api/v1/ (the resources), /api/schema/ (OpenAPI 3) and /api/docs/ (Swagger UI, staff only)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.decorators import api_view, permission_classes, schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from pushes.api import ROUTES as PUSHES_ROUTES
from refs.api import ROUTES as REFS_ROUTES
from sheets.api import ROUTES as SHEETS_ROUTES

# URL names (`push-detail`) read as the singular of their resource.
BASENAMES = {
    "pushes": "push",
    "invoices": "invoice",
    "connections": "connection",
    "imports": "import",
}
router = DefaultRouter()
for prefix, viewset in (*REFS_ROUTES, *PUSHES_ROUTES, *SHEETS_ROUTES):
    router.register(prefix, viewset, basename=BASENAMES.get(prefix, prefix.replace("-", "_")))


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([AllowAny])
@schema(None)
def not_found(request, path=""):
    """Anything else under /api/: a 404 in the API's error shape, not Django's HTML page."""
    raise NotFound(f"There is no API resource at {request.path}.")


urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^(?P<path>.*)$", not_found),
]
