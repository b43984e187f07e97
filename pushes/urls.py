from django.contrib import admin
from django.urls import path

from pushes import views, webhooks

urlpatterns = [
    path("webhooks/railz", webhooks.railz_webhook, name="railz-webhook"),
    # Staff pages' live parts and buttons (the admin's pages call them).
    path("staff/dashboard/parts", views.dashboard_parts, name="pushes-dashboard-parts"),
    path(
        "staff/invoices/<int:pk>/push-status",
        views.invoice_push_status,
        name="pushes-invoice-push-status",
    ),
    path(
        "staff/invoices/<int:pk>/push",
        admin.site.admin_view(views.invoice_push),
        name="pushes-invoice-push",
    ),
    path(
        "staff/pushes/<int:pk>/<slug:verb>",
        admin.site.admin_view(views.push_request_verb),
        name="pushes-push-verb",
    ),
]
