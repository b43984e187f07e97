"""The provider's push rules (pushOptions) are fetched when a connection is discovered, daily and
on demand, and validation reads them: the NetSuite invoice without a subsidiary, which the
accounting system refuses after sending, is refused before sending, with nothing to run first.
Until the rules are known, the composer says so instead of calling the invoice ready."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.module_loading import import_string
from django_q.signals import pre_enqueue

from pushes.models import ProviderPushOptions, PushRequest
from pushes.schedules import schedules
from pushes.services.invoices import InvoiceData, invoice_update, invoice_validate
from pushes.services.push_requests import PushRefused, push_request_create
from pushes.tasks import push_options_refresh_all_task
from refs.models import Connection
from refs.services import connections_discover
from tests.fixtures.emulator import DEMO_NETSUITE, DEMO_OLD_MILL
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import emulator_invoice_numbers, ready_invoice

pytestmark = pytest.mark.django_db(transaction=True)

PUSH_OPTIONS_TASK = "pushes.tasks.push_options_refresh_task"


@pytest.fixture
def enqueued():
    """Every task handed to django-q2's broker, whatever the broker is."""
    tasks = []

    def record(sender, task, **kwargs):
        tasks.append(task)

    pre_enqueue.connect(record, dispatch_uid="push-options-test-enqueued")
    yield tasks
    pre_enqueue.disconnect(dispatch_uid="push-options-test-enqueued")


def _run(tasks):
    """Run enqueued tasks as a worker would: by their dotted path."""
    for task in tasks:
        import_string(task["func"])(*task["args"])


def _netsuite_invoice_without_subsidiary(user=None):
    invoice = ready_invoice(connection_uuid=DEMO_NETSUITE, number="INV-NS-NOSUB")
    data = InvoiceData.from_invoice(invoice)
    data.subsidiaries = []
    data.status = "draft"  # a ready invoice without a subsidiary is refused once rules are known
    return invoice_update(invoice=invoice, data=data, user=user)


def test_before_the_rules_are_known_the_composer_says_so(
    push_emulator, admin_client, push_plain_static
):
    invoice = _netsuite_invoice_without_subsidiary()
    invoice.status = "ready"
    invoice.save(update_fields=["status"])

    assert invoice_validate(invoice=invoice) == []  # Railz's own rules pass
    page = admin_client.get(reverse("admin:pushes_invoice_change", args=[invoice.pk]))
    html = page.content.decode()

    assert "Not yet checked against Oracle NetSuite&#x27;s rules" in html
    assert "every check passes" not in html


def test_discovery_fetches_the_rules_of_each_active_connection(push_emulator, enqueued):
    run = connections_discover()
    assert run.status == "succeeded", run.error

    fetches = [t for t in enqueued if t["func"] == PUSH_OPTIONS_TASK]
    active = set(Connection.objects.active().values_list("pk", flat=True))
    assert {t["args"][0] for t in fetches} == active and len(fetches) == len(active) == 3
    old_mill = Connection.objects.get(connection_uuid=DEMO_OLD_MILL)  # disconnected
    assert old_mill.pk not in {t["args"][0] for t in fetches}

    _run(fetches)

    netsuite = Connection.objects.get(connection_uuid=DEMO_NETSUITE)
    kept = set(
        ProviderPushOptions.objects.filter(connection=netsuite).values_list(
            "data_type", "operation"
        )
    )
    assert {("invoices", "create"), ("invoices", "update"), ("bills", "create")} <= kept
    # A second discovery that changes nothing fetches nothing again: the daily refresh does.
    enqueued.clear()
    connections_discover()
    assert [t for t in enqueued if t["func"] == PUSH_OPTIONS_TASK] == []


def test_the_netsuite_invoice_without_subsidiary_is_refused_before_sending(
    push_emulator, push_staff, enqueued, admin_client, push_plain_static
):
    connections_discover()
    _run([t for t in enqueued if t["func"] == PUSH_OPTIONS_TASK])
    invoice = _netsuite_invoice_without_subsidiary(push_staff)
    invoice.status = "ready"
    invoice.save(update_fields=["status"])

    problems = [(p.field, p.message) for p in invoice_validate(invoice=invoice)]
    assert problems == [
        (
            "subsidiaryRefs",
            "subsidiaryRefs is required by Oracle NetSuite (NetSuite records belong to a "
            "subsidiary: required).",
        )
    ]
    with pytest.raises(PushRefused):
        push_request_create(record=invoice, user=push_staff)
    assert not PushRequest.objects.exists()
    assert emulator_invoice_numbers(DEMO_NETSUITE) == []  # nothing reached NetSuite

    page = admin_client.get(reverse("admin:pushes_invoice_change", args=[invoice.pk]))
    html = page.content.decode()
    assert "subsidiaryRefs is required by Oracle NetSuite" in html
    assert "Not yet checked against" not in html


def test_the_rules_are_refreshed_daily_for_every_active_connection(push_emulator, enqueued):
    daily = next(s for s in schedules() if s.func == "pushes.tasks.push_options_refresh_all_task")
    assert daily.minutes == 24 * 60
    connections_discover()
    enqueued.clear()

    push_options_refresh_all_task()

    active = set(Connection.objects.active().values_list("pk", flat=True))
    assert sorted(t["args"][0] for t in enqueued if t["func"] == PUSH_OPTIONS_TASK) == sorted(
        active
    )
