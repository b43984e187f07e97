"""Push invoices over a few connections with faults mixed in, reconcile, and print what is left
for a person and why, and whether any record holds another's provider id.

The emulator answers in this process (its views are called through a requests adapter, no
server), so the faults are exact: a *lost answer* reaches Railz and its answer never comes
back (a read timeout after the emulator recorded the push); a *500* and a *timeout* never
reach Railz's log (a 500 before acceptance, a read timeout on a request never logged). Each
push gets one fault or none, drawn with a fixed seed, so a run can be repeated and compared
between versions. The emulator's background threads (webhook deliveries, its ticker) are not
started: outcomes are learned by polling, as when every webhook is lost.

After sending, it polls, then runs the periodic reconciliation PASSES times, waiting between
runs long enough for a not-listed push to get its second check (the reconcile window is made
short with --window-seconds); pushes queued again meanwhile are sent (without faults) and
reconciled in turn. It writes invoices and pushes into the configured database: point
DATABASE_URL at a scratch database.
"""

from __future__ import annotations

import datetime
import json
import random
import time
from collections import Counter
from decimal import Decimal
from unittest import mock

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import RequestFactory, override_settings
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

HOST = "http://railz-mix.invalid"
FAULTS = ("lost", "500", "timeout")
# Polls ask about every pending push, due or not.
LATER = datetime.timedelta(hours=1)


class InProcessRailz(BaseAdapter):
    """Hands each request to the emulator's views in this process; injects the next fault."""

    def __init__(self):
        super().__init__()
        self.factory = RequestFactory()
        self.fault = ""
        self.calls = Counter()

    def send(self, request, **kwargs):
        from railzpush.emulator import views

        path = request.path_url
        write = request.method == "POST" and "/v2/accounting/" in path
        fault, self.fault = (self.fault, "") if write else ("", self.fault)
        self.calls["write" if write else request.method] += 1
        if fault == "timeout":
            raise requests.ReadTimeout("Read timed out (never logged by Railz).", request=request)
        if fault == "500":
            return self._response(
                request,
                500,
                {"error": {"statusCode": 500, "message": ["INTERNAL_ERROR"]}, "payload": {}},
            )
        body = request.body or b""
        django_request = self.factory.generic(
            request.method,
            path,
            data=body if isinstance(body, bytes) else body.encode(),
            content_type="application/json",
            HTTP_AUTHORIZATION=request.headers.get("Authorization", ""),
        )
        if path.startswith("/auth/"):
            answer = views.get_access(django_request)
        else:
            answer = views.api(django_request, path=path.split("?", 1)[0][len("/api") :])
        if fault == "lost":
            raise requests.ReadTimeout("Read timed out (Railz recorded the push).", request=request)
        response = self._response(request, answer.status_code, None)
        response._content = answer.content
        response.headers = CaseInsensitiveDict(answer.items())
        return response

    def _response(self, request, status: int, body) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.request = request
        response.url = request.url
        response.encoding = "utf-8"
        response.elapsed = datetime.timedelta(0)
        response._content = json.dumps(body).encode() if body is not None else b""
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        return response

    def close(self):
        pass


def _invoice(connection, customer, account, subsidiaries, number: str):
    from pushes.models import Invoice, InvoiceLine

    invoice = Invoice.objects.create(
        connection=connection,
        status="ready",
        customer=customer,
        invoice_number=number,
        posted_date=datetime.date(2025, 3, 3),
        memo=f"Reliability mix {number}",
    )
    if subsidiaries:
        invoice.subsidiaries.set(subsidiaries)
    InvoiceLine.objects.create(
        invoice=invoice,
        position=0,
        description="Consulting",
        quantity=Decimal("1"),
        unit_amount=Decimal("100.00") + int(number.rsplit("-", 1)[-1]) % 50,
        account=account,
    )
    return invoice


def _connections(count: int):
    """Up to `count` active demo connections whose provider creates invoices, with a customer
    and an income account (and a subsidiary where needed) in the refs mirror."""
    from django.utils import timezone

    from railzpush.emulator.demo_data import DEMO_CONNECTIONS, business_info, records
    from railzpush.emulator.records import emulator_seed
    from railzpush.railz.datatypes import Op, data_type
    from refs.models import Account, Connection, Customer, Subsidiary

    emulator_seed()
    chosen = []
    for demo in DEMO_CONNECTIONS:
        if demo["status"] != "active" or not data_type("invoices").supports(
            Op.CREATE, demo["service_name"]
        ):
            continue
        connection, _ = Connection.objects.get_or_create(
            connection_uuid=demo["connection_uuid"],
            defaults={
                "business_uuid": demo["business_uuid"],
                "business_name": demo["business_name"],
                "service_name": demo["service_name"],
                "status": demo["status"],
            },
        )

        def ref(model, item, name, connection=connection):
            row, _ = model.objects.get_or_create(
                connection=connection,
                remote_id=str(item["id"]),
                defaults={
                    "name": name,
                    "status": "active",
                    "content_hash": "0" * 32,
                    "synced_at": timezone.now(),
                },
            )
            return row

        customer_item = next(iter(records(demo, "customers", count=1)))
        account_item = next(
            a
            for a in records(demo, "accounts")
            if str(a.get("classification")).lower() in ("revenue", "income")
            and a.get("status") != "archived"
        )
        subsidiaries = []
        if demo["service_name"] == "oracleNetsuite":
            item = (business_info(demo).get("subsidiaryRefs") or [])[0]
            subsidiaries = [ref(Subsidiary, item, item.get("name") or "")]
        chosen.append(
            (
                connection,
                ref(Customer, customer_item, customer_item["customerName"]),
                ref(Account, account_item, account_item["name"]),
                subsidiaries,
            )
        )
        if len(chosen) == count:
            break
    return chosen


class Command(BaseCommand):
    help = (
        "Push invoices against the in-process emulator with lost answers, 500s and timeouts "
        "mixed in, reconcile, and print how many ended waiting for a person, and why."
    )

    def add_arguments(self, parser):
        parser.add_argument("--pushes", type=int, default=475)
        parser.add_argument("--connections", type=int, default=3)
        parser.add_argument("--lost", type=float, default=0.08, help="share of lost answers")
        parser.add_argument("--errors", type=float, default=0.05, help="share of 500s")
        parser.add_argument("--timeouts", type=float, default=0.03, help="share of timeouts")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--passes", type=int, default=3, help="reconcile runs")
        parser.add_argument(
            "--window-seconds",
            type=float,
            default=3.0,
            help="RAILZ_READ_TIMEOUT during the run: the reconcile window after a send",
        )

    def handle(self, *args, **options):
        if not settings.RAILZ_EMULATOR:
            raise CommandError("reliability_mix runs against the emulator only: RAILZ_EMULATOR=1")
        shares = (options["lost"], options["errors"], options["timeouts"])
        if any(s < 0 for s in shares) or sum(shares) > 1:
            raise CommandError("--lost, --errors and --timeouts must be shares adding up to ≤ 1")
        window = options["window_seconds"]
        overrides = {
            "RAILZ_READ_TIMEOUT": window,
            "PUSH_RECONCILE_SKEW_SECONDS": 1,
            "PUSH_SETTLE_NOT_RECEIVED_SECONDS": 1,
            "RAILZ_EMULATOR_PUSH_DELAY_SECONDS": 0,
            "RAILZ_EMULATOR_RATE_LIMIT_PER_MINUTE": 10**7,
            "RAILZ_EMULATOR_PROVIDER_LIMITS": {},
        }
        with (
            override_settings(**overrides),
            mock.patch("railzpush.emulator.background.run_in_background"),
            mock.patch("railzpush.emulator.background.ticker_ensure_started"),
            mock.patch("pushes.queue.async_task"),
        ):
            self._run(options, shares, window)

    def _run(self, options, shares, window):
        from django.utils import timezone

        from pushes.models import PushRequest
        from pushes.services.push_requests import (
            push_request_create,
            push_request_submit,
            pushes_poll_due,
        )
        from pushes.services.reconcile import pushes_reconcile_unknown
        from railzpush.railz import get_client

        adapter = InProcessRailz()
        client = get_client(
            api_url=f"{HOST}/api",
            auth_url=f"{HOST}/auth/getAccess",
            rate_limit_per_minute=10**7,
            provider_limits={},
            max_wait=0,
            backoff_base=0.001,
            backoff_cap=0.01,
        )
        client.session.mount(HOST, adapter)
        connections = _connections(options["connections"])
        if not connections:
            raise CommandError("no active demo connection can create invoices")
        draw = random.Random(options["seed"])
        run = f"{int(time.time()) % 100000:05d}"
        injected: dict[int, str] = {}
        invoices = {}
        started = time.monotonic()
        for index in range(options["pushes"]):
            connection, customer, account, subsidiaries = connections[index % len(connections)]
            invoice = _invoice(connection, customer, account, subsidiaries, f"MIX{run}-{index:04d}")
            push = push_request_create(record=invoice, source=PushRequest.Source.SYSTEM)
            roll, fault, edge = draw.random(), "", 0.0
            for name, share in zip(FAULTS, shares, strict=True):
                edge += share
                if roll < edge:
                    fault = name
                    break
            adapter.fault = fault
            injected[push.pk] = fault or "none"
            invoices[invoice.pk] = invoice
            push_request_submit(push_request_id=push.pk, client=client)
        sent_for = time.monotonic() - started
        poll_all = lambda: pushes_poll_due(client=client, now=timezone.now() + LATER)  # noqa: E731
        poll_all()

        pause = window + 1 + 1.5  # past the window's end, and past the settle period
        for number in range(options["passes"]):
            if number:
                time.sleep(pause)
            pushes_reconcile_unknown(client=client)
            queued = list(PushRequest.objects.filter(state="queued", retry_of__isnull=False))
            for push in queued:
                push_request_submit(push_request_id=push.pk, client=client)
            if queued:
                poll_all()
        self._report(options, injected, invoices, adapter, sent_for)

    def _report(self, options, injected, invoices, adapter, sent_for):
        from pushes.models import Invoice, PushRequest
        from railzpush.emulator.models import EmuRecord

        originals = {p.pk: p for p in PushRequest.objects.filter(pk__in=list(injected))}
        retries = list(PushRequest.objects.filter(retry_of_id__in=list(injected)))
        write = self.stdout.write
        write(
            f"{len(injected)} pushes over {options['connections']} connection(s), seed "
            f"{options['seed']}, sent in {sent_for:.1f} s; faults injected: "
            + ", ".join(f"{k} {v}" for k, v in sorted(Counter(injected.values()).items()))
        )
        end = Counter(p.state for p in originals.values())
        write(
            "end state of the pushes sent: " + ", ".join(f"{k} {v}" for k, v in sorted(end.items()))
        )
        waiting = [p for p in originals.values() if p.state == "unknown"]
        waiting += [p for p in retries if p.state == "unknown"]
        causes = Counter()
        for push in waiting:
            note = push.reconcile_note
            why = (
                "several Railz pushes could be theirs"
                if "cannot be told apart" in note
                else "not listed by Railz"
                if "never arrived" in note
                else note[:60] or "not reconciled"
            )
            causes[f"{injected.get(push.pk, 'retry')}: {why}"] += 1
        write(f"unknown, waiting for a person: {len(waiting)}")
        for cause, count in sorted(causes.items()):
            write(f"  {count:4d}  fault {cause}")
        settled = sum(
            1
            for p in originals.values()
            if p.state == "failed" and "never received" in (p.last_error or "").lower()
        )
        now = Counter(r.state for r in retries)
        write(
            f"settled as never received: {settled}; queued again automatically: {len(retries)} "
            f"(now: {', '.join(f'{k} {v}' for k, v in sorted(now.items())) or '-'})"
        )
        wrong = missing = 0
        holders: Counter = Counter()
        for invoice in Invoice.objects.filter(pk__in=list(invoices)).select_related("connection"):
            if not invoice.provider_record_id:
                missing += 1
                continue
            holders[(invoice.connection_id, invoice.provider_record_id)] += 1
            body = (
                EmuRecord.objects.filter(
                    connection__connection_uuid=invoice.connection.connection_uuid,
                    data_type="invoices",
                    remote_id=invoice.provider_record_id,
                )
                .values_list("body", flat=True)
                .first()
            )
            if body is None or json.loads(body).get("invoiceNumber") != invoice.invoice_number:
                wrong += 1
        numbers = Counter(
            json.loads(body).get("invoiceNumber")
            for body in EmuRecord.objects.filter(data_type="invoices").values_list(
                "body", flat=True
            )
        )
        duplicates = sum(
            n - 1
            for number, n in numbers.items()
            if n > 1 and any(number == i.invoice_number for i in invoices.values())
        )
        write(
            f"records holding another record's provider id: {wrong}; provider ids held twice: "
            f"{sum(n - 1 for n in holders.values() if n > 1)}; invoices without a provider id: "
            f"{missing}; duplicate records in the accounting system: {duplicates}"
        )
        write(
            "Railz calls: "
            + ", ".join(f"{k} {v}" for k, v in sorted(adapter.calls.items()))
            + " (writes include the faulted ones)"
        )
