from django.contrib import admin
from django.urls import path

from pushes import registry, views, webhooks
from pushes.registry import PUSHABLE_TYPES


def _model_name(data_type: str) -> str:
    return registry.for_data_type(data_type).spec.model_class._meta.model_name


urlpatterns = [
    path("webhooks/railz", webhooks.railz_webhook, name="railz-webhook"),
    # Staff pages' live parts and buttons (the admin's pages call them).
    path("staff/dashboard/parts", views.dashboard_parts, name="pushes-dashboard-parts"),
    # staff/<data_type>/<pk>/… for every declared type, named after its model
    # (pushes-invoice-push, pushes-bill-push-status...).
    *(
        route
        for data_type in PUSHABLE_TYPES
        for route in (
            path(
                f"staff/{data_type}/<int:pk>/push-status",
                views.record_push_status,
                {"data_type": data_type},
                name=f"pushes-{_model_name(data_type)}-push-status",
            ),
            path(
                f"staff/{data_type}/<int:pk>/push",
                admin.site.admin_view(views.record_push),
                {"data_type": data_type},
                name=f"pushes-{_model_name(data_type)}-push",
            ),
            path(
                f"staff/{data_type}/<int:pk>/submit-approval",
                admin.site.admin_view(views.record_submit_approval),
                {"data_type": data_type},
                name=f"pushes-{_model_name(data_type)}-submit-approval",
            ),
        )
    ),
    path(
        "staff/alerts/settings",
        admin.site.admin_view(views.alert_settings),
        name="pushes-alert-settings",
    ),
    path(
        "staff/connections/<int:pk>/resume",
        admin.site.admin_view(views.connection_resume_view),
        name="pushes-connection-resume",
    ),
    path(
        "staff/pushes/<int:pk>/<slug:verb>",
        admin.site.admin_view(views.push_request_verb),
        name="pushes-push-verb",
    ),
]
