"""Mounted at /emulator/ only when settings.RAILZ_EMULATOR is on (see railzpush/urls.py)."""

from django.urls import path, re_path

from railzpush.emulator import views

urlpatterns = [
    path("auth/getAccess", views.get_access),
    path("_control/", views.control_view),
    re_path(r"^api(?P<path>/.*)?$", views.api),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
