"""Time a record with many lines through every step a person or integrator waits for.

Creates a ready invoice with `--lines` lines (RECORD_MAX_LINES by default) through the REST
API, checks it (`validate`), builds its push body and queues its push, then prints each step's
wall time and database queries. Everything runs in one transaction rolled back at the end, on
the configured database (migrated), so nothing is kept; the push's send is not run (it is one
call to Railz whose time is Railz's), but its body is encoded as the worker would.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time creating, validating and pushing one invoice with many lines (nothing is kept)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--lines",
            type=int,
            default=settings.RECORD_MAX_LINES,
            help="lines on the invoice (default: RECORD_MAX_LINES)",
        )

    def handle(self, *args, lines: int, **options):
        if lines < 1:
            raise CommandError("--lines must be at least 1")
        self.rows: list[tuple[str, float, int, str]] = []
        try:
            with transaction.atomic():
                self._run(lines)
                raise _Rollback
        except _Rollback:
            pass
        width = max(len(name) for name, *_ in self.rows)
        self.stdout.write(f"One invoice with {lines} lines ({connection.vendor}):")
        for name, seconds, queries, note in self.rows:
            self.stdout.write(
                f"  {name:<{width}}  {seconds * 1000:9.1f} ms  {queries:6d} queries  {note}"
            )
        total = sum(seconds for _, seconds, _, _ in self.rows)
        self.stdout.write(f"  {'total':<{width}}  {total * 1000:9.1f} ms")

    @contextmanager
    def _step(self, name: str, note: str = ""):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result: dict = {"note": note}
            yield result
            seconds = time.perf_counter() - started
        self.rows.append((name, seconds, len(queries), result["note"]))

    def _run(self, lines: int) -> None:
        from django.contrib.auth import get_user_model
        from rest_framework.test import APIClient

        from pushes.models import Invoice
        from pushes.services.invoices import invoice_payload
        from pushes.services.push_requests import push_request_create

        connection_row, refs = _scratch_refs()
        user = get_user_model().objects.create_superuser("bench-lines", password=None)
        client = APIClient()
        client.force_authenticate(user)
        body = {
            "connection": connection_row.connection_uuid,
            "status": "ready",
            "customer": {"remote_id": refs["customer"].remote_id},
            "invoice_number": "BENCH-LINES",
            "posted_date": "2026-11-01",
            "due_date": "2026-12-01",
            "currency": "CAD",
            "lines": [
                {
                    "description": f"Line {i + 1}",
                    "quantity": "2",
                    "unit_amount": "12.50",
                    "account": {"remote_id": refs["accounts"][i % 3].remote_id},
                    "tax_rate": {"remote_id": refs["tax"].remote_id},
                    "tracking_options": [{"remote_id": refs["option"].remote_id}],
                }
                for i in range(lines)
            ],
        }
        host = (settings.ALLOWED_HOSTS or ["localhost"])[0].lstrip(".") or "localhost"
        with override_settings(SECURE_SSL_REDIRECT=False):
            with self._step("API create (POST /api/v1/invoices/)") as step:
                answer = client.post(
                    "/api/v1/invoices/", body, format="json", HTTP_HOST=host, secure=True
                )
                step["note"] = f"HTTP {answer.status_code}"
            if answer.status_code != 201:
                raise CommandError(f"create answered {answer.status_code}: {answer.content[:500]}")
            invoice_id = answer.json()["id"]
            with self._step("API validate (GET …/validate/)") as step:
                answer = client.get(
                    f"/api/v1/invoices/{invoice_id}/validate/", HTTP_HOST=host, secure=True
                )
                step["note"] = f"HTTP {answer.status_code}, valid={answer.json().get('valid')}"
        with self._step("build the push body") as step:
            invoice = Invoice.objects.get(pk=invoice_id)
            payload = invoice_payload(invoice=invoice)
            step["note"] = f"{len(payload['data']['lines'])} lines"
        with self._step("queue the push") as step:
            push = push_request_create(record=Invoice.objects.get(pk=invoice_id), user=user)
            step["note"] = f"push #{push.pk} {push.state}"
        with self._step("encode the body to send") as step:
            sent = json.dumps(push.body)
            step["note"] = f"{len(sent) / 1024:.0f} KiB"


def _scratch_refs():
    """A connection and the references the lines use, created inside the rolled-back run."""
    from django.utils import timezone

    from refs.models import Account, Connection, Customer, TaxRate, TrackingCategory, TrackingOption

    now = timezone.now()
    conn = Connection.objects.create(
        connection_uuid="CON-bench-lines",
        business_uuid="BIZ-bench-lines",
        business_name="Bench lines",
        service_name="quickbooks",
        status="active",
    )

    def ref(model, remote_id, **fields):
        return model.objects.create(
            connection=conn,
            remote_id=remote_id,
            name=f"{model.__name__} {remote_id}",
            status="active",
            content_hash=remote_id,
            synced_at=now,
            **fields,
        )

    category = ref(TrackingCategory, "REGION")
    return conn, {
        "customer": ref(Customer, "C-1", currency="CAD"),
        "accounts": [ref(Account, str(400 + i)) for i in range(3)],
        "tax": ref(TaxRate, "GST", total_rate=Decimal("5")),
        "option": ref(TrackingOption, "EAST", category=category),
    }
