"""Time every staff page and API list against a big history, and count its queries.

    python manage.py bench_pages                # 1,000,000 pushes, 100,000 invoices and customers
    python manage.py bench_pages --scale 0.1    # a tenth of each

Builds a scratch database (SQLite in a temporary directory, or a scratch database on the
PostgreSQL server `--postgres URL` names, dropped afterwards), seeds it with fast bulk inserts
(the push history doubles itself with INSERT ... SELECT, each copy a span of time earlier, so a
million rows take seconds), then, in a fresh process, asks each page through Django's test
client as a superuser and prints the median time and the queries of each: the dashboard and its
5-second refresh, each record type's list and composer, a push's page, the push list and its
date navigation, each API list, and the receipt of a webhook (which finds its push by its Railz
id). Nothing is kept.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pushes.management.scratch import scratch_env

RESULT_PREFIX = "BENCH-PAGES "
CONNECTIONS = 5
BASE_PUSH_SECONDS = 30  # the newest copy of the history: one push every 30 s


class Command(BaseCommand):
    help = "Seed a big history and print median time and queries of every staff page and list."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="1.0: a million pushes")
        parser.add_argument("--runs", type=int, default=5, help="timed runs per page")
        parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL")
        parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
        parser.add_argument("--step", choices=["seed", "measure"], help="(internal)")

    def handle(self, *args, **options):
        if not 0 < options["scale"] <= 10 or options["runs"] < 1:
            raise CommandError("--scale must be above 0 (at most 10) and --runs at least 1")
        if options["step"] == "seed":
            return self._seed(options["scale"])
        if options["step"] == "measure":
            return self._measure(options["runs"])
        return self._orchestrate(options)

    # --- the parent ------------------------------------------------------------------------

    def _orchestrate(self, options) -> None:
        from pushes.management.commands.bench_push import _postgres_scratch

        scratch = Path(tempfile.mkdtemp(prefix="bench_pages-"))
        name = (urlsplit(options["postgres"] or "").path.strip("/") or "railzpush") + "_pages"
        database = (
            _postgres_scratch(options["postgres"], name, create=True)
            if options["postgres"]
            else f"sqlite:///{scratch / 'pages.sqlite3'}"
        )
        env = scratch_env(
            database=database,
            scratch=scratch,
            ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
            LOG_LEVEL="ERROR",
        )
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        try:
            subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True)  # noqa: S603
            started = time.monotonic()
            subprocess.run(  # noqa: S603
                [*manage, "bench_pages", "--step", "seed", "--scale", str(options["scale"])],
                env=env,
                check=True,
            )
            seeded = time.monotonic() - started
            run = subprocess.run(  # noqa: S603
                [*manage, "bench_pages", "--step", "measure", "--runs", str(options["runs"])],
                env=env,
                check=False,
                capture_output=True,
                text=True,
            )
            if run.returncode:
                raise CommandError(f"measuring the pages failed:\n{run.stderr[-3000:]}")
        finally:
            if options["postgres"]:
                _postgres_scratch(options["postgres"], name, create=False)
        line = next(li for li in run.stdout.splitlines() if li.startswith(RESULT_PREFIX))
        result = json.loads(line.removeprefix(RESULT_PREFIX))
        self._report(options, result, seeded)
        if options["keep"]:
            self.stdout.write(f"Kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    def _report(self, options, result: dict, seeded: float) -> None:
        sizes = result["sizes"]
        self.stdout.write("")
        self.stdout.write(
            f"bench_pages: {sizes['pushes']:,} push requests, {sizes['records']:,} invoices, "
            f"{sizes['customers']:,} customers ({'PostgreSQL' if options['postgres'] else 'SQLite'}"
            f"; seeded in {seeded:.0f} s; median of {options['runs']} runs)"
        )
        self.stdout.write(f"  {'page':<44}{'median ms':>10}{'queries':>9}{'status':>8}")
        for page in result["pages"]:
            self.stdout.write(
                f"  {page['name']:<44}{page['median_ms']:>10.0f}{page['queries']:>9}"
                f"{page['status']:>8}"
            )

    # --- seeding (in the scratch database) ---------------------------------------------------

    def _seed(self, scale: float) -> None:
        import datetime as dt
        from decimal import Decimal

        from django.contrib.contenttypes.models import ContentType
        from django.db import connection as db
        from django.utils import timezone

        from pushes.models import Invoice, InvoiceLine, PushEvent, PushRequest
        from pushes.push_counts import counts_rebuild
        from refs.models import Account, Connection, Customer

        pushes_wanted = max(1, round(1_000_000 * scale))
        records_wanted = max(1, round(100_000 * scale))
        customers_wanted = max(CONNECTIONS, round(100_000 * scale))
        now = timezone.now()
        ref = {"status": "active", "content_hash": "0" * 32, "synced_at": now}
        connections = [
            Connection.objects.create(
                connection_uuid=f"CON-pages000-{n:04d}-4c5a-8b2e-7d1e3f5b{n:04d}",
                business_uuid=f"BIZ-pages000-{n:04d}-4f0a-9c6d-2a8b4c6f{n:04d}",
                business_name=f"Pages Business {n}",
                service_name="quickbooks",
                status=Connection.Status.ACTIVE,
            )
            for n in range(CONNECTIONS)
        ]
        accounts = [
            Account.objects.create(connection=c, remote_id="4000", name="Sales", **ref)
            for c in connections
        ]
        Customer.objects.bulk_create(
            (
                Customer(
                    connection=connections[i % CONNECTIONS],
                    remote_id=f"C{i:07d}",
                    name=f"Customer {i:07d}",
                    **ref,
                )
                for i in range(customers_wanted)
            ),
            batch_size=5000,
        )
        customers = {
            c.connection_id: c
            for c in Customer.objects.filter(remote_id__in=[f"C{i:07d}" for i in range(5)])
        }
        for start in range(0, records_wanted, 5000):
            invoices = Invoice.objects.bulk_create(
                [
                    Invoice(
                        connection=connections[i % CONNECTIONS],
                        status="ready",
                        customer=customers[connections[i % CONNECTIONS].pk],
                        invoice_number=f"P-{i:07d}",
                        posted_date=dt.date(2025, 3, 3),
                        due_date=dt.date(2025, 4, 2),
                    )
                    for i in range(start, min(records_wanted, start + 5000))
                ]
            )
            InvoiceLine.objects.bulk_create(
                InvoiceLine(
                    invoice=invoice,
                    position=0,
                    description="Roasting services",
                    quantity=Decimal("2"),
                    unit_amount=Decimal("60.00"),
                    account=accounts[connections.index(invoice.connection)],
                )
                for invoice in invoices
            )
        invoice_ids = list(Invoice.objects.order_by("pk").values_list("pk", "connection_id"))
        content_type = ContentType.objects.get_for_model(Invoice)

        # The newest copy of the history, written by the ORM; each copy below doubles it.
        copies = 0
        while (pushes_wanted >> copies) > 100_000:
            copies += 1
        base = -(-pushes_wanted // (1 << copies))
        PushRequest._meta.get_field("created_at").auto_now_add = False
        states = {0: "failed", 1: "rejected", 2: "unknown", 3: "cancelled"}
        rows = []
        for i in range(base):
            object_id, connection_id = invoice_ids[i % len(invoice_ids)]
            state = states.get(i % 97, "success") if i % 13 == 0 else "success"
            if state == "unknown" and i >= len(invoice_ids):
                state = "failed"  # one push in flight per record
            rows.append(
                PushRequest(
                    content_type=content_type,
                    object_id=object_id,
                    connection_id=connection_id,
                    data_type="invoices",
                    operation="create",
                    state=state,
                    body={},
                    created_at=now - dt.timedelta(seconds=BASE_PUSH_SECONDS * i),
                    sent_at=now - dt.timedelta(seconds=BASE_PUSH_SECONDS * i),
                    completed_on=now - dt.timedelta(seconds=BASE_PUSH_SECONDS * i - 2),
                    last_error="Railz is unavailable" if state != "success" else "",
                )
            )
        PushRequest.objects.bulk_create(rows, batch_size=5000)
        span = dt.timedelta(seconds=BASE_PUSH_SECONDS * base)
        table = PushRequest._meta.db_table
        columns = [
            f.column
            for f in PushRequest._meta.concrete_fields
            if f.column not in ("id", "created_at", "state", "push_communication_id")
        ]
        quoted = ", ".join(db.ops.quote_name(c) for c in columns)
        for _ in range(copies):
            total = PushRequest.objects.count()
            room = pushes_wanted - total
            if room <= 0:
                break
            earlier = span * (total // base)
            if db.vendor == "postgresql":
                shifted = f"created_at - interval '{int(earlier.total_seconds())} seconds'"
            else:
                seconds = int(earlier.total_seconds())
                shifted = f"strftime('%Y-%m-%d %H:%M:%f', created_at, '-{seconds} seconds')"
            with db.cursor() as cursor:
                # Copies are settled pushes (never in flight) with no Railz id of their own.
                cursor.execute(
                    f"INSERT INTO {table} ({quoted}, created_at, state, push_communication_id) "  # noqa: S608
                    f"SELECT {quoted}, {shifted}, CASE WHEN state IN "
                    "('queued', 'submitting', 'pending', 'unknown') THEN 'success' ELSE state END, "
                    f"'' FROM {table} ORDER BY id LIMIT {room}"
                )
        newest = PushRequest.objects.order_by("-created_at", "-pk").first()
        PushEvent.objects.bulk_create(
            PushEvent(
                push_request=newest,
                at=now,
                kind=PushEvent.Kind.STATE,
                source="worker",
                from_state=a,
                to_state=b,
            )
            for a, b in (("", "queued"), ("queued", "submitting"), ("submitting", "pending"))
        )
        counts_rebuild()
        if db.vendor == "postgresql":
            with db.cursor() as cursor:
                cursor.execute("ANALYZE")
        else:
            with db.cursor() as cursor:
                cursor.execute("ANALYZE")

    # --- measuring (a fresh process) --------------------------------------------------------

    @staticmethod
    def _measure_webhook(client, connection, runs: int) -> dict:
        """A signed webhook naming a push not written down yet, each run another one: it is
        stored to wait for its worker, after looking the push up by its Railz id twice."""
        from django.db import connection as db
        from django.test.utils import CaptureQueriesContext
        from django.urls import reverse

        from railzpush.railz.signatures import sign

        times, queries, status = [], 0, 0
        for run in range(runs + 1):  # the first one warms up
            body = json.dumps(
                {
                    "data": {
                        "event": "push",
                        "connectionId": connection.connection_uuid,
                        "pushCommunicationId": f"bench{run:019d}",
                        "status": "success",
                        "sourceObjectIds": ["1"],
                    }
                }
            ).encode()
            signature = sign(body, settings.RAILZ_WEBHOOK_SECRET)
            with CaptureQueriesContext(db) as captured:
                started = time.perf_counter()
                response = client.post(
                    reverse("railz-webhook"),
                    data=body,
                    content_type="application/json",
                    HTTP_RAILZ_SIGNATURE=signature,
                )
                elapsed = 1000 * (time.perf_counter() - started)
            if run:
                times.append(elapsed)
            queries, status = len(captured), response.status_code
        return {
            "name": "webhook receipt (push not known yet)",
            "median_ms": statistics.median(times),
            "queries": queries,
            "status": status,
        }

    def _measure(self, runs: int) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connection as db
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.urls import get_resolver, reverse

        from pushes import registry
        from pushes.models import Invoice, PushRequest
        from refs.models import Connection, Customer

        # Pages render with plain static URLs: nothing was collected in the scratch directory.
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        users = get_user_model().objects
        user = users.filter(username="bench").first() or users.create_superuser(
            "bench", "bench@example.com", "bench-only-password"
        )
        client = Client()
        client.force_login(user)
        connection = Connection.objects.order_by("pk").first()
        newest = PushRequest.objects.order_by("-created_at", "-pk").first()
        year = newest.created_at.year
        pages = [
            ("dashboard (admin home)", reverse("admin:index")),
            ("dashboard refresh", reverse("pushes-dashboard-parts")),
        ]
        for pushable in registry.pushables():
            model = pushable.model._meta.model_name
            pages.append(
                (f"{pushable.data_type} list", reverse(f"admin:pushes_{model}_changelist"))
            )
        for pushable in registry.pushables():
            model = pushable.model._meta.model_name
            url = reverse(f"admin:pushes_{model}_add") + f"?connection={connection.pk}"
            pages.append((f"{pushable.data_type} composer", url))
        invoice = Invoice.objects.order_by("-pk").first()
        pages += [
            ("an invoice's page", reverse("admin:pushes_invoice_change", args=[invoice.pk])),
            ("a push's page", reverse("admin:pushes_pushrequest_change", args=[newest.pk])),
            ("push list", reverse("admin:pushes_pushrequest_changelist")),
            (
                "push list, one year",
                reverse("admin:pushes_pushrequest_changelist") + f"?created_at__year={year}",
            ),
            (
                "customer list, one business",
                reverse("admin:refs_customer_changelist") + f"?business={connection.pk}",
            ),
        ]
        # Every API list the router serves (its "<basename>-list" URLs).
        lists = sorted(
            name
            for name in get_resolver().reverse_dict
            if isinstance(name, str) and name.endswith("-list")
        )
        for name in lists:
            pages.append((f"API {reverse(name)}", reverse(name)))
        measured = []
        for name, url in pages:
            client.get(url)  # warm: caches, templates, the planner's first look
            times, queries, status = [], 0, 0
            for _ in range(runs):
                with CaptureQueriesContext(db) as captured:
                    started = time.perf_counter()
                    response = client.get(url)
                    times.append(1000 * (time.perf_counter() - started))
                queries, status = len(captured), response.status_code
            measured.append(
                {
                    "name": name,
                    "median_ms": statistics.median(times),
                    "queries": queries,
                    "status": status,
                }
            )
        measured.append(self._measure_webhook(client, connection, runs))
        sizes = {
            "pushes": PushRequest.objects.count(),
            "records": Invoice.objects.count(),
            "customers": Customer.objects.count(),
        }
        print(RESULT_PREFIX + json.dumps({"pages": measured, "sizes": sizes}))
