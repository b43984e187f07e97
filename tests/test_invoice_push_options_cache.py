"""The provider's push rules (pushOptions) are fetched through the client and kept, per data type
and operation; checks read the kept copy and never wait on Railz."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pushes.models import ProviderPushOptions
from pushes.services.invoices import invoice_create, invoice_validate
from pushes.services.push_options import push_options_refresh
from railzpush.railz.errors import RailzServerError
from tests.factories import (
    ConnectionFactory,
    SubsidiaryFactory,
    invoice_data,
    invoice_line,
    invoice_plain_static,  # noqa: F401
)
from tests.fixtures.emulator import DEMO_NETSUITE


@pytest.fixture
def netsuite(transactional_db):
    return ConnectionFactory(
        connection_uuid=DEMO_NETSUITE,
        business_name="Summit Outdoor Group",
        service_name="oracleNetsuite",
    )


def test_refreshing_keeps_the_providers_invoice_rules(emulator, emulator_client, netsuite):
    data = invoice_data(connection=netsuite, lines=[invoice_line()])
    assert invoice_validate(data=data) == []  # nothing cached: Railz's own rules only

    kept = push_options_refresh(connection=netsuite, client=emulator_client)

    invoices = {row.operation: row for row in kept if row.data_type == "invoices"}
    assert set(invoices) == {"create", "update"}
    assert all(row.fetched_at is not None for row in kept)
    assert {entry["method"] for entry in invoices["create"].options} == {"POST"}
    assert {entry["method"] for entry in invoices["update"].options} == {"PUT"}
    # Every data type NetSuite can push, each operation it can do on it.
    assert ("customers", "update") in {(row.data_type, row.operation) for row in kept}
    assert ("invoiceCreditNotes", "update") not in {(row.data_type, row.operation) for row in kept}
    assert [(p.field, p.message) for p in invoice_validate(data=data)] == [
        (
            "subsidiaryRefs",
            "subsidiaryRefs is required by Oracle NetSuite (NetSuite records belong to a "
            "subsidiary: required).",
        )
    ]
    data.subsidiaries = [SubsidiaryFactory(connection=netsuite)]
    assert invoice_validate(data=data) == []


def test_a_failed_refresh_keeps_the_previous_copy(netsuite):
    push_options_refresh(connection=netsuite, client=_Answers({"data": [_OPTIONS]}))

    with pytest.raises(RailzServerError):
        push_options_refresh(connection=netsuite, client=_Answers(RailzServerError()))

    assert ProviderPushOptions.objects.get(
        connection=netsuite, data_type="invoices", operation="create"
    ).options == [_OPTIONS]


@pytest.mark.usefixtures("invoice_plain_static")
def test_the_admin_action_refreshes_the_connections_of_the_chosen_invoices(
    emulator, admin_client, netsuite
):
    invoice = invoice_create(data=invoice_data(connection=netsuite, status="draft"))

    response = admin_client.post(
        reverse("admin:pushes_invoice_changelist"),
        {"action": "refresh_push_options", "_selected_action": [invoice.pk]},
        follow=True,
    )

    assert (
        "Summit Outdoor Group (oracleNetsuite): push rules fetched for 16 data type and "
        "operation pair(s) (2 entries for invoices)." in response.content.decode()
    )
    page = admin_client.get(reverse("admin:pushes_invoice_change", args=[invoice.pk]))
    assert "pushOptions fetched" in page.content.decode()


_OPTIONS = {
    "title": "oracleNetsuite invoices POST",
    "requestType": "invoices",
    "serviceName": "oracleNetsuite",
    "method": "POST",
    "properties": {"subsidiaryRefs": {"type": "array", "required": True, "description": ""}},
}


class _Answers:
    """A client whose push_options answers (or raises) what it was given."""

    def __init__(self, answer):
        self.answer = answer

    def push_options(self, *, connection_uuid, data_type=None):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer if data_type == "invoices" else {"data": []}
