"""A record has at most RECORD_MAX_LINES lines: more is refused at `lines` with the rule
`maxItems`, by the API (before reading the lines one by one), the services and the admin form,
and nothing is written. Lines are written in a number of statements that does not grow with
the number of lines. The figures at the cap are printed by `manage.py bench_lines`."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pushes.models import Invoice, InvoiceLine
from pushes.services.invoices import (
    InvoiceData,
    InvoiceInvalid,
    invoice_create,
    invoice_update,
    invoice_validate,
)
from tests.factories import (
    AccountFactory,
    ConnectionFactory,
    CustomerFactory,
    TrackingOptionFactory,
    invoice_data,
    invoice_line,
    invoice_plain_static,  # noqa: F401
)
from tests.fixtures.api import *  # noqa: F403
from tests.test_api_invoices import INVOICES, draft_body
from tests.test_invoice_admin_compose import ADD, invoice_post

CAP = 3


@pytest.fixture(autouse=True)
def _cap(settings):
    settings.RECORD_MAX_LINES = CAP


def _api_lines(count, **line):
    return [
        {"description": f"Line {i}", "quantity": "1", "unit_amount": "5", **line}
        for i in range(count)
    ]


def test_the_api_refuses_more_lines_than_the_cap_naming_lines_and_the_rule(api, api_refs):
    response = api.post(INVOICES, draft_body(api_refs, lines=_api_lines(CAP + 1)), format="json")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["field"], error["rule"]) == ("lines", "maxItems")
    assert f"at most {CAP} lines" in error["message"]
    assert f"this one has {CAP + 1}" in error["message"]
    assert not Invoice.objects.exists()


def test_the_api_refuses_before_checking_each_line(api, api_refs):
    # Every line is wrong too, but over the cap only the cap is reported.
    lines = _api_lines(CAP + 2, quantity="many", account={"remote_id": "nowhere"})
    response = api.post(INVOICES, draft_body(api_refs, lines=lines), format="json")
    assert response.status_code == 400
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [("lines", "maxItems")]


def test_a_record_at_the_cap_is_created_through_the_api(api, api_refs):
    response = api.post(INVOICES, draft_body(api_refs, lines=_api_lines(CAP)), format="json")
    assert response.status_code == 201, response.json()
    assert len(response.json()["lines"]) == CAP


@pytest.mark.django_db
def test_the_services_refuse_more_lines_than_the_cap_and_write_nothing():
    maple = ConnectionFactory()
    data = invoice_data(connection=maple, status="draft")
    data.lines = [invoice_line(description=f"L{i}") for i in range(CAP + 1)]
    with pytest.raises(InvoiceInvalid) as refused:
        invoice_create(data=data)
    [problem] = refused.value.problems
    assert problem.field == "lines"
    assert problem.rule == "maxItems"
    assert not Invoice.objects.exists()
    assert not InvoiceLine.objects.exists()


@pytest.mark.django_db
def test_a_stored_record_over_a_lowered_cap_is_reported_by_validate(settings):
    maple = ConnectionFactory()
    data = invoice_data(connection=maple, status="draft")
    data.lines = [invoice_line(description=f"L{i}") for i in range(CAP)]
    invoice = invoice_create(data=data)
    settings.RECORD_MAX_LINES = CAP - 1
    problems = invoice_validate(invoice=invoice)
    assert [(p.field, p.rule) for p in problems if p.field == "lines"] == [("lines", "maxItems")]


@pytest.mark.django_db
@pytest.mark.usefixtures("invoice_plain_static")
def test_the_admin_form_shows_the_cap_and_saves_nothing(admin_client):
    maple = ConnectionFactory(service_name="quickbooks")
    account = AccountFactory(connection=maple)
    post = invoice_post(
        customer=CustomerFactory(connection=maple).pk,
        lines=[
            {"description": f"L{i}", "quantity": "1", "unit_amount": "5", "account": account.pk}
            for i in range(CAP + 1)
        ],
    )
    response = admin_client.post(f"{ADD}?connection={maple.pk}", post)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    [message] = formset.non_form_errors()
    assert f"at most {CAP} lines" in message
    assert not Invoice.objects.exists()


def _lines_with_tracking(conn, count):
    account = AccountFactory(connection=conn)
    options = [TrackingOptionFactory(connection=conn) for _ in range(2)]
    return [
        invoice_line(description=f"L{i}", account=account, tracking_options=options)
        for i in range(count)
    ]


def _queries_to_create(conn, count) -> int:
    data = invoice_data(connection=conn, status="draft", invoice_number="")
    data.lines = _lines_with_tracking(conn, count)
    with CaptureQueriesContext(connection) as queries:
        invoice_create(data=data)
    return len(queries)


@pytest.mark.django_db
def test_writing_lines_takes_the_same_queries_for_few_or_many(settings):
    settings.RECORD_MAX_LINES = 100
    maple = ConnectionFactory()
    assert _queries_to_create(maple, 3) == _queries_to_create(maple, 60)


@pytest.mark.django_db
def test_an_update_changes_adds_and_removes_lines_and_their_tracking_in_bulk():
    maple = ConnectionFactory()
    data = invoice_data(connection=maple, status="draft")
    data.lines = _lines_with_tracking(maple, 3)
    invoice = invoice_create(data=data)
    first, second, third = invoice.lines.order_by("position")
    kept_option = first.tracking_options.order_by("pk").first()

    data = InvoiceData.from_invoice(invoice)
    data.lines[0].description = "changed"
    data.lines[0].tracking_options = [kept_option]
    data.lines[1].tracking_options = []
    del data.lines[2]
    data.lines.append(invoice_line(description="added", account=first.account))
    invoice = invoice_update(invoice=invoice, data=data)

    lines = list(invoice.lines.order_by("position"))
    assert [(line.pk, line.description) for line in lines] == [
        (first.pk, "changed"),
        (second.pk, second.description),
        (lines[2].pk, "added"),
    ]
    assert lines[2].pk != third.pk
    assert not InvoiceLine.objects.filter(pk=third.pk).exists()
    assert [list(line.tracking_options.all()) for line in lines] == [[kept_option], [], []]
    assert [line.position for line in lines] == [0, 1, 2]


@pytest.mark.django_db
def test_bench_lines_prints_each_steps_time_and_queries_and_keeps_nothing(settings):
    out = io.StringIO()
    call_command("bench_lines", stdout=out)
    text = out.getvalue()
    assert f"One invoice with {CAP} lines" in text
    for step in ("API create", "API validate", "build the push body", "queue the push"):
        assert step in text
    assert "HTTP 201" in text and "valid=True" in text
    assert not Invoice.objects.exists()
