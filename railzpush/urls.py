from django.conf import settings
from django.contrib import admin
from django.urls import include, path

# Staff see the project's name, not Django's, in the header, the tab and the home page.
admin.site.site_header = "railzpush"
admin.site.site_title = "railzpush"
admin.site.index_title = "Push monitor"

# An unexpected error answers API and webhook callers in the error shape, never an HTML page.
handler500 = "railzpush.api.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("pushes.urls")),
    path("api/", include("railzpush.api.urls")),
]

if settings.RAILZ_EMULATOR:
    urlpatterns.append(path("emulator/", include("railzpush.emulator.urls")))
