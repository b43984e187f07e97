"""The API never answers an HTML page: not to a browser asking for one, not on a crash."""

import json

from django.test import RequestFactory

from railzpush.api.errors import server_error
from tests.fixtures.api import *  # noqa: F403


def test_a_browser_asking_for_html_gets_json(api, api_connection):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = api.get("/api/v1/connections/", HTTP_ACCEPT=browser)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["count"] == 1


def test_an_unexpected_error_on_the_api_is_a_500_in_the_error_shape():
    response = server_error(RequestFactory().get("/api/v1/invoices/"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["errors"][0]["rule"] == "serverError"


def test_an_unexpected_error_on_the_webhook_is_a_500_in_the_error_shape():
    response = server_error(RequestFactory().post("/webhooks/railz"))
    assert json.loads(response.content)["errors"][0]["rule"] == "serverError"


def test_staff_pages_keep_the_html_error_page(db):
    response = server_error(RequestFactory().get("/admin/"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
