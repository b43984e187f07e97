"""/api/v1/ (the resources), /api/schema/ (OpenAPI 3) and /api/docs/ (Swagger UI, staff only)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from pushes.api import ROUTES as PUSHES_ROUTES
from refs.api import ROUTES as REFS_ROUTES

router = DefaultRouter()
for prefix, viewset in (*REFS_ROUTES, *PUSHES_ROUTES):
    router.register(prefix, viewset, basename=prefix.rstrip("s").replace("-", "_"))

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
