from django.urls import path

from pushes import webhooks

urlpatterns = [
    path("webhooks/railz", webhooks.railz_webhook, name="railz-webhook"),
]
