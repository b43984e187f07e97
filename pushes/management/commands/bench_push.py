"""Push invoices end to end against the emulator and print throughput and cost per push.

Everything runs as it does in production, in separate processes on a scratch SQLite database:
the web app with the emulator mounted (gunicorn, on a free port, receiving the emulator's
signed webhooks at /webhooks/railz), a django-q2 cluster with --workers workers (ORM broker,
the declared schedules written by setup_schedules), and this command queuing the pushes and
waiting for every one to finish.

Railz calls are counted from the server's access log (every request to /emulator/api, the
fake Railz), so nothing in the app is trusted to count itself. Database queries are counted in
every process by an execute wrapper, split into the app's own, the queue's (django_q tables)
and the emulator's (the fake Railz's own storage, reported but not charged to the app).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

BENCH_SERVICE = "quickbooks"  # no per-connection provider limit, supports create and update
QUERY_DIR_ENV = "BENCH_QUERY_DIR"

GUNICORN_CONFIG = """
import os

def post_worker_init(worker):
    from pushes.management.commands.bench_push import install_query_counter
    install_query_counter(os.environ["BENCH_QUERY_DIR"])
"""

CLUSTER_BOOT = """
import os, django
from pushes.management.commands.bench_push import install_query_counter
django.setup()
install_query_counter(os.environ["BENCH_QUERY_DIR"])
from django.core.management import call_command
call_command("qcluster")
"""


def install_query_counter(directory: str) -> dict:
    """Count every query this process (and its forks) runs into `directory/<pid>`.

    Each process rewrites one small file in place, so a worker killed at the end loses
    nothing already counted. Returns the state; set state["enabled"] = False to stop counting.
    """
    from django.db.backends.signals import connection_created

    state = {"pid": None, "fd": None, "counts": Counter(), "enabled": True}

    def count(execute, sql, params, many, context):
        if state["enabled"]:
            pid = os.getpid()
            if state["pid"] != pid:  # first query of this process, or of a fork of it
                state.update(pid=pid, counts=Counter())
                path = Path(directory) / str(pid)
                state["fd"] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            text = sql if isinstance(sql, str) else str(sql)
            if '"emulator_' in text or "emulator_emu" in text:
                kind = "emulator"
            elif "django_q_" in text:
                kind = "queue"
            else:
                kind = "app"
            state["counts"][kind] += 1
            os.pwrite(state["fd"], json.dumps(state["counts"]).ljust(100).encode(), 0)
        return execute(sql, params, many, context)

    def on_connect(sender, connection, **kwargs):
        if count not in connection.execute_wrappers:
            connection.execute_wrappers.append(count)

    connection_created.connect(on_connect, weak=False)
    from django.db import connections

    for connection in connections.all():
        if connection.connection is not None:
            on_connect(None, connection)
    return state


def _children_cpu_seconds() -> float:
    """CPU time of every finished child process (and the children they reaped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise CommandError(f"the server did not start on port {port} within {timeout:.0f} s")


class Command(BaseCommand):
    help = (
        "Push invoices end to end against the emulator (server + django-q2 cluster in "
        "subprocesses) and print wall time, pushes/s, Railz calls and queries per push."
    )

    def add_arguments(self, parser):
        parser.add_argument("--invoices", type=int, default=1000)
        parser.add_argument("--connections", type=int, default=5)
        parser.add_argument("--workers", type=int, default=2, help="django-q2 workers")
        parser.add_argument("--server-processes", type=int, default=2)
        parser.add_argument("--server-threads", type=int, default=8)
        parser.add_argument("--timeout", type=float, default=900, help="seconds to wait")
        parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
        # Internal: the steps run inside the scratch environment.
        parser.add_argument("--step", choices=["prepare", "run"], help="(internal)")

    def handle(self, *args, **options):
        if options["invoices"] < 1 or options["connections"] < 1 or options["workers"] < 1:
            raise CommandError("--invoices, --connections and --workers must be at least 1")
        if options["step"] == "prepare":
            return self._prepare(options["invoices"], options["connections"])
        if options["step"] == "run":
            return self._run(options["timeout"])
        return self._orchestrate(options)

    # --- the parent: scratch environment and processes ---------------------------------------

    def _orchestrate(self, options) -> None:
        scratch = Path(tempfile.mkdtemp(prefix="bench_push-"))
        queries = scratch / "queries"
        queries.mkdir()
        port = _free_port()
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
            "RAILZPUSH_VAR_DIR": str(scratch),
            "SITE_URL": f"http://127.0.0.1:{port}",
            "RAILZ_EMULATOR": "1",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-secret-key",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "Q_WORKERS": str(options["workers"]),
            "Q_POLL": "0.05",
            "RAILZ_EMULATOR_PUSH_DELAY_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
            QUERY_DIR_ENV: str(queries),
        }
        env.pop("REDIS_URL", None)
        log = (scratch / "processes.log").open("w")
        processes: list[subprocess.Popen] = []
        try:
            self.stdout.write(f"Scratch environment in {scratch}; server on port {port}")
            subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True)  # noqa: S603
            subprocess.run(  # noqa: S603
                [
                    *manage,
                    "bench_push",
                    "--step",
                    "prepare",
                    "--invoices",
                    str(options["invoices"]),
                    "--connections",
                    str(options["connections"]),
                ],
                env=env,
                check=True,
            )
            cpu_before = _children_cpu_seconds()
            (scratch / "gunicorn.conf.py").write_text(GUNICORN_CONFIG)
            server = subprocess.Popen(  # noqa: S603
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "railzpush.wsgi:application",
                    "-c",
                    str(scratch / "gunicorn.conf.py"),
                    "-b",
                    f"127.0.0.1:{port}",
                    "-k",
                    "gthread",
                    "-w",
                    str(options["server_processes"]),
                    "--threads",
                    str(options["server_threads"]),
                    "--access-logfile",
                    str(scratch / "access.log"),
                    "--access-logformat",
                    "%(m)s %(U)s %(s)s",
                ],
                env=env,
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=log,
            )
            processes.append(server)
            _wait_for_port(port, 30)
            cluster = subprocess.Popen(  # noqa: S603
                [sys.executable, "-c", CLUSTER_BOOT],
                env=env,
                cwd=settings.BASE_DIR,
                stdout=log,
                stderr=log,
            )
            processes.append(cluster)
            run = subprocess.run(  # noqa: S603
                [*manage, "bench_push", "--step", "run", "--timeout", str(options["timeout"])],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            outcome = json.loads(run.stdout.strip().splitlines()[-1])
        finally:
            for process in reversed(processes):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in reversed(processes):
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
            log.close()
        outcome["cpu_seconds"] = _children_cpu_seconds() - cpu_before
        outcome["load"] = os.getloadavg()[0]
        self._report(options, outcome, scratch)
        if options["keep"]:
            self.stdout.write(f"Kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    def _report(self, options, outcome: dict, scratch: Path) -> None:
        calls = Counter()
        throttled = 0
        for line in (scratch / "access.log").read_text().splitlines():
            parts = line.split()
            if len(parts) < 3:
                continue
            method, path, status = parts[0], parts[1], parts[2]
            if path.startswith("/emulator/api/"):
                if method in ("POST", "PUT", "DELETE"):
                    calls["submit"] += 1
                elif path.endswith(("/pushStatus", "/deleteStatus")):
                    calls["status"] += 1
                else:
                    calls["other"] += 1
                throttled += status == "429"
            elif path.startswith("/emulator/auth/"):
                calls["token"] += 1
            elif path.startswith("/webhooks/railz"):
                calls["webhooks received"] += 1
        queries = Counter()
        for path in (scratch / "queries").iterdir():
            text = path.read_bytes().decode().strip()
            if text:
                queries.update(json.loads(text))
        pushes = outcome["pushes"]
        wall = outcome["wall_seconds"]
        railz = calls["submit"] + calls["status"]
        self.stdout.write("")
        self.stdout.write(
            f"bench_push: {pushes} invoices, {options['connections']} connections, "
            f"{options['workers']} workers (SQLite, ORM broker)"
        )
        self.stdout.write(f"  final states              {outcome['states']}")
        self.stdout.write(f"  wall time                 {wall:.1f} s")
        self.stdout.write(f"  pushes per second         {pushes / wall:.1f}")
        self.stdout.write(
            f"  Railz calls per push      {railz / pushes:.3f} "
            f"({calls['submit']} submit + {calls['status']} pushStatus; not counted: "
            f"{calls['token']} token fetches, {calls['other']} other reads)"
        )
        self.stdout.write(
            f"  CPU time                  {outcome['cpu_seconds']:.1f} s in all, "
            f"{1000 * outcome['cpu_seconds'] / pushes:.0f} ms per push (server, emulator, "
            f"cluster and queuing, start-up included); load average {outcome['load']:.1f}"
        )
        self.stdout.write(f"  429 answers               {throttled}")
        self.stdout.write(f"  webhooks received         {calls['webhooks received']}")
        self.stdout.write(
            f"  DB queries per push       {(queries['app'] + queries['queue']) / pushes:.1f} "
            f"(app {queries['app'] / pushes:.1f} + queue {queries['queue'] / pushes:.1f}; "
            f"the emulator's own {queries['emulator'] / pushes:.1f} not counted)"
        )
        self.stdout.write(
            f"  invoices in the emulator  {outcome['emulator_invoices']} "
            f"(one per invoice: {outcome['one_record_each']})"
        )

    # --- the steps inside the scratch environment ---------------------------------------------

    def _prepare(self, invoice_count: int, connection_count: int) -> None:
        """Seed the emulator, mirror the bench connections and compose the invoices."""
        import datetime as dt
        from decimal import Decimal

        from django.utils import timezone
        from django_q.models import Schedule

        from pushes.models import Invoice, InvoiceLine
        from pushes.payloads import invoice_build_payload, invoice_lines_prefetch, payload_hash
        from pushes.schedules import schedules as push_schedules
        from railzpush.emulator import demo_data, records
        from railzpush.emulator.models import EmuConnection
        from refs.models import Account, Connection, Customer

        records.emulator_seed()
        # The push pipeline's own schedules (poll, dispatch, reconcile), as setup_schedules
        # writes them; the reference-data refresh is left out, it is not push traffic.
        for job in push_schedules():
            Schedule.objects.create(
                name=job.name,
                func=job.func,
                schedule_type=Schedule.MINUTES,
                minutes=job.minutes,
                repeats=-1,
                next_run=timezone.now(),
            )
        template = next(c for c in demo_data.DEMO_CONNECTIONS if c["service_name"] == BENCH_SERVICE)
        customer_item = next(iter(demo_data.records(template["connection_uuid"], "customers")))
        account_item = next(
            a
            for a in demo_data.records(template["connection_uuid"], "accounts")
            if str(a.get("classification")).lower() in ("revenue", "income")
        )
        now = timezone.now()
        connections = []
        for n in range(connection_count):
            if n == 0:
                demo = template
            else:
                # The emulator offers no control action for extra businesses: add them through
                # its records module, with the two reference rows the invoices point at.
                demo = {
                    **template,
                    "connection_uuid": f"CON-bench000-{n:04d}-4c5a-8b2e-7d1e3f5b{n:04d}",
                    "business_uuid": f"BIZ-bench000-{n:04d}-4f0a-9c6d-2a8b4c6f{n:04d}",
                    "business_name": f"Bench Business {n}",
                }
                if not EmuConnection.objects.filter(
                    connection_uuid=demo["connection_uuid"]
                ).exists():
                    emu = EmuConnection.objects.create(
                        connection_uuid=demo["connection_uuid"],
                        business_uuid=demo["business_uuid"],
                        business_name=demo["business_name"],
                        service_name=BENCH_SERVICE,
                        status="active",
                        connection_json=json.dumps(
                            {
                                **demo_data.connection_item(template),
                                "connectionUuid": demo["connection_uuid"],
                                "businessName": demo["business_name"],
                            }
                        ),
                        business_json=json.dumps(
                            {
                                **demo_data.business_item(template),
                                "businessName": demo["business_name"],
                            }
                        ),
                        info_json=json.dumps(demo_data.business_info(template)),
                    )
                    records.record_create(connection=emu, data_type="customers", item=customer_item)
                    records.record_create(connection=emu, data_type="accounts", item=account_item)
            connection, _ = Connection.objects.get_or_create(
                connection_uuid=demo["connection_uuid"],
                defaults={
                    "business_uuid": demo["business_uuid"],
                    "business_name": demo["business_name"],
                    "service_name": BENCH_SERVICE,
                    "status": Connection.Status.ACTIVE,
                },
            )
            ref = {"status": "active", "content_hash": "0" * 32, "synced_at": now}
            customer, _ = Customer.objects.get_or_create(
                connection=connection,
                remote_id=str(customer_item["id"]),
                defaults={"name": customer_item["customerName"], **ref},
            )
            account, _ = Account.objects.get_or_create(
                connection=connection,
                remote_id=str(account_item["id"]),
                defaults={"name": account_item["name"], **ref},
            )
            connections.append((connection, customer, account))
        invoices = Invoice.objects.bulk_create(
            [
                Invoice(
                    connection=connections[i % connection_count][0],
                    status="ready",
                    customer=connections[i % connection_count][1],
                    invoice_number=f"B-{i:06d}",
                    posted_date=dt.date(2025, 3, 3),
                    due_date=dt.date(2025, 4, 2),
                    memo="Benchmark invoice",
                )
                for i in range(invoice_count)
            ]
        )
        InvoiceLine.objects.bulk_create(
            [
                InvoiceLine(
                    invoice=invoice,
                    position=0,
                    description="Roasting services",
                    quantity=Decimal("2"),
                    unit_amount=Decimal("60.00"),
                    account=connections[i % connection_count][2],
                )
                for i, invoice in enumerate(invoices)
            ]
        )
        for invoice in Invoice.objects.select_related("connection", "customer").prefetch_related(
            invoice_lines_prefetch(), "subsidiaries"
        ):
            Invoice.objects.filter(pk=invoice.pk).update(
                payload_hash=payload_hash(invoice_build_payload(invoice))
            )
        self.stdout.write(f"Prepared {invoice_count} invoices on {connection_count} connections")

    def _run(self, timeout: float) -> None:
        """Queue a push of every invoice, wait until all are finished; one JSON line out."""
        from django.db.models import Count
        from django_q.tasks import async_task, fetch

        from pushes.models import Invoice, PushRequest
        from pushes.services.push_requests import pushes_request_bulk
        from railzpush.emulator.models import EmuRecord

        # The clock starts once the cluster answers: a no-op task must come back first.
        ready = async_task("math.floor", 1.5)
        if fetch(ready, wait=60_000) is None:
            raise CommandError("the django-q2 cluster did not start within 60 s")
        invoices = list(Invoice.objects.select_related("connection", "customer"))
        counter = install_query_counter(os.environ[QUERY_DIR_ENV])
        started = time.monotonic()
        result = pushes_request_bulk(records=invoices, user=None, source=PushRequest.Source.SYSTEM)
        counter["enabled"] = False  # the waiting below is the bench's, not the app's
        if result.refused:
            raise CommandError(f"refused: {result.refused[0][1]}")
        deadline = started + timeout
        while time.monotonic() < deadline:
            if not PushRequest.objects.exclude(state__in=PushRequest.TERMINAL).exists():
                break
            time.sleep(0.1)
        wall = time.monotonic() - started
        states = dict(
            PushRequest.objects.values_list("state").annotate(n=Count("pk")).order_by("state")
        )
        per_number = Counter(
            json.loads(body).get("invoiceNumber")
            for body in EmuRecord.objects.filter(data_type="invoices").values_list(
                "body", flat=True
            )
        )
        numbers = {invoice.invoice_number for invoice in invoices}
        print(  # the parent reads this line
            json.dumps(
                {
                    "pushes": len(result.created),
                    "wall_seconds": wall,
                    "states": states,
                    "emulator_invoices": sum(per_number.values()),
                    "one_record_each": set(per_number) == numbers
                    and all(n == 1 for n in per_number.values()),
                }
            )
        )
