from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("pushes.urls")),
    path("api/", include("railzpush.api.urls")),
]

if settings.RAILZ_EMULATOR:
    urlpatterns.append(path("emulator/", include("railzpush.emulator.urls")))
