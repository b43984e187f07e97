from django.conf import settings
from django.contrib import admin
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView

# Staff see the project's name, not Django's, in the header, the tab and the home page.
admin.site.site_header = "railzpush"
admin.site.site_title = "railzpush"
admin.site.index_title = "Push monitor"
# "View site" and the bare address both lead to the staff home page: there is no other site.
admin.site.site_url = reverse_lazy("admin:index")
# Lists get the whole width of a laptop screen: the home page and breadcrumbs lead everywhere.
admin.site.enable_nav_sidebar = False

# An unexpected error answers API and webhook callers in the error shape, never an HTML page.
handler500 = "railzpush.api.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url=reverse_lazy("admin:index")), name="home"),
    path("", include("pushes.urls")),
    path("api/", include("railzpush.api.urls")),
]

if settings.RAILZ_EMULATOR:
    urlpatterns.append(path("emulator/", include("railzpush.emulator.urls")))
