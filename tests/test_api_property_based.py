"""Property-based run over the project's own OpenAPI schema: every read operation, invoice
validation and invoice creation, with generated parameters and bodies and a staff token, never
answer 500 and never answer anything the schema does not describe.

Bounded (20 examples an operation, no deadline per example) so the whole run stays well under a
minute; hypothesis' example database is off so runs do not depend on earlier ones.
"""

from __future__ import annotations

import contextlib

import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from refs.models import Account, Customer, TaxRate, TrackingCategory, TrackingOption
from tests.fixtures.api import *  # noqa: F403
from tests.fixtures.api import make_ref

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 20


def _schema():
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return (
        schemathesis.openapi.from_dict(raw)
        .include(method="GET")
        .include(method="POST", path="/api/v1/invoices/")
    )


def _fill(connection, other):
    for target in (connection, other):
        category = make_ref(TrackingCategory, target, "CAT", "Region")
        make_ref(TrackingOption, target, "OPT", "East", category=category)
        for n in range(3):
            make_ref(Customer, target, f"C{n}", f"Customer {n}", email=f"c{n}@example.com")
            make_ref(Account, target, str(200 + n), f"Account {n}", code=str(4000 + n))
        make_ref(TaxRate, target, "GST", "GST")


@contextlib.contextmanager
def _connections_kept_open():
    """Like Django's test client: a request must not close the test's database connection
    (and with it the transaction holding the test's data)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_no_operation_errors_or_breaks_the_schema(
    api_as, api_staff, api_connection, api_other_connection
):
    _fill(api_connection, api_other_connection)
    app = get_wsgi_application()
    auth = {"Authorization": f"Bearer {api_as(api_staff).raw_token}"}
    operations = [result.ok() for result in _schema().get_all_operations()]
    labels = {operation.label for operation in operations}
    assert "POST /api/v1/invoices/" in labels
    assert "GET /api/v1/invoices/{id}/validate/" in labels
    assert len(labels) >= 28

    failures: dict[str, str] = {}
    calls: dict[str, int] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            response = case.call(app=app, headers=auth)
            calls[case.operation.label] = calls.get(case.operation.label, 0) + 1
            case.validate_response(response, checks=CHECKS)

        try:
            with _connections_kept_open():
                run()
        except Exception as exc:  # every operation is tried; the report lists each failure
            failures[operation.label] = str(exc)[:2000]

    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    # Each operation was really exercised, not skipped by a filter or a health check.
    assert min(calls.values()) >= MAX_EXAMPLES // 2, calls
    assert set(calls) == labels
