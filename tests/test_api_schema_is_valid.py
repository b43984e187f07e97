"""The OpenAPI schema generates without a single warning and validates, and its pages are for
staff only."""

import pytest
import yaml
from django.core.management import call_command

from tests.fixtures.api import *  # noqa: F403


def test_the_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    # --fail-on-warn turns any warning (an unresolvable field, a clashing name) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert "/api/v1/connections/{id}/sync/" in paths
    assert "/api/v1/tracking-categories/" in paths
    sync = paths["/api/v1/connections/{id}/sync/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in sync["parameters"]]
    assert sync["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"


def test_the_schema_and_docs_are_for_staff_only(anonymous_api, api_as, api_user, api_staff):
    assert anonymous_api.get("/api/schema/").status_code == 401
    assert api_as(api_user).get("/api/schema/").status_code == 403
    staff = api_as(api_staff)
    response = staff.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/customers/" in response.json()["paths"]


@pytest.mark.usefixtures("plain_static")
def test_swagger_ui_is_served_to_staff(client, api_staff, api_user):
    assert client.get("/api/docs/").status_code == 401
    client.force_login(api_user)
    assert client.get("/api/docs/").status_code == 403
    client.force_login(api_staff)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    # Its scripts and styles come from this app's static files, never from a CDN.
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
