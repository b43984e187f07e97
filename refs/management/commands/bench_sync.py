"""Benchmark the customer sync over real HTTP against the emulator in its own server process.

    python manage.py bench_sync --customers 100000

Builds a throw-away database (SQLite in var/ unless --database-url), seeds the emulator's Xero
demo business with N customers, serves the emulator with gunicorn on a free port (a separate
process, so server and client do not share one GIL), then runs the first sync and a re-sync of
the unchanged data, each in a fresh process, and prints wall time, rows per second, database
queries per page, time spent waiting on HTTP, and peak memory (max RSS of the syncing process).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

BENCH_CONNECTION = "CON-9f1c2a4e-0001-4c5a-8b2e-7d1e3f5a0001"  # the Xero demo business
RESULT_PREFIX = "BENCH-RESULT "


class Command(BaseCommand):
    help = "Seed the emulator with N customers and time the first sync and a re-sync."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument(
            "--database-url",
            help="database for the run (default: a fresh SQLite file in var/bench-sync/)",
        )
        parser.add_argument("--keep", action="store_true", help="keep var/bench-sync/")
        parser.add_argument(
            "--profile", action="store_true", help="print the sync's top functions (cProfile)"
        )
        # Internal: one measured phase, run in its own process against the bench database.
        parser.add_argument("--phase", choices=["first", "resync"], help="(internal)")

    def handle(self, *args, customers, database_url, keep, profile, phase, **options):
        if customers < 1:
            raise CommandError("--customers must be at least 1")
        if phase:
            self._measure(phase=phase, profile=profile)
            return
        self._orchestrate(
            customers=customers, database_url=database_url, keep=keep, profile=profile
        )

    # --- the parent: database, seed, server, two measured phases --------------------------

    def _orchestrate(self, *, customers, database_url, keep, profile):
        # Its own var/ directory: database, file cache (token, rate budget) and nothing else.
        bench_dir = Path(settings.VAR_DIR) / "bench-sync"
        shutil.rmtree(bench_dir, ignore_errors=True)
        bench_dir.mkdir(parents=True)
        database_url = database_url or f"sqlite:///{bench_dir / 'bench.sqlite3'}"
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret-key",
            "RAILZ_EMULATOR": "1",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "RAILZ_API_URL": f"http://127.0.0.1:{port}/emulator/api",
            "RAILZ_AUTH_URL": f"http://127.0.0.1:{port}/emulator/auth/getAccess",
            # Measure the sync, not Railz's 1,000 requests a minute (which alone would cap a
            # sync at about 8,300 rows/s): two phases of 200 pages fit, a re-run might not.
            "RAILZ_EMULATOR_RATE_LIMIT_PER_MINUTE": "100000",
            "RAILZ_RATE_LIMIT_PER_MINUTE": "100000",
            "LOG_LEVEL": "WARNING",
            "RAILZPUSH_VAR_DIR": str(bench_dir),
        }
        env.pop("REDIS_URL", None)
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        self._step("migrating the bench database", [*manage, "migrate", "--no-input", "-v0"], env)
        self._step(
            f"seeding {customers:,} customers in the emulator",
            [
                *manage,
                "emulator_seed",
                "--customers",
                str(customers),
                "--connection",
                BENCH_CONNECTION,
            ],
            env,
        )
        server = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "railzpush.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=settings.BASE_DIR,
        )
        try:
            _wait_for(port, server)
            results = []
            for phase in ("first", "resync"):
                command = [*manage, "bench_sync", "--phase", phase, "--customers", str(customers)]
                if profile:
                    command.append("--profile")
                results.append(self._phase(command, env))
        finally:
            server.terminate()
            server.wait(timeout=30)
            if not keep:
                shutil.rmtree(bench_dir, ignore_errors=True)
        self._report(customers=customers, database_url=database_url, results=results)

    def _step(self, label, command, env):
        started = time.monotonic()
        self.stderr.write(f"{label}…", ending="")
        self.stderr.flush()
        subprocess.run(  # noqa: S603
            command,
            env=env,
            check=True,
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
        )
        self.stderr.write(f" {time.monotonic() - started:.1f} s")

    def _phase(self, command, env) -> dict:
        done = subprocess.run(  # noqa: S603
            command,
            env=env,
            cwd=settings.BASE_DIR,
            text=True,
            capture_output=True,
        )
        if done.returncode != 0:
            raise CommandError(f"bench phase failed:\n{done.stdout}\n{done.stderr}")
        for line in done.stdout.splitlines():
            if line.startswith(RESULT_PREFIX):
                result = json.loads(line[len(RESULT_PREFIX) :])
                if result.get("profile"):
                    self.stdout.write(result.pop("profile"))
                return result
        raise CommandError(f"bench phase printed no result:\n{done.stdout}\n{done.stderr}")

    def _report(self, *, customers, database_url, results):
        engine = database_url.split(":", 1)[0]
        self.stdout.write(
            f"\nbench_sync: {customers:,} customers, pages of 500, {engine}, "
            f"{os.cpu_count()} CPUs, emulator served by gunicorn (1 worker) in its own process"
        )
        header = (
            f"{'phase':<8} {'status':<10} {'wall s':>7} {'rows/s':>8} {'q/page':>7} "
            f"{'http s':>7} {'client s':>8} {'refs s':>7} {'cpu s':>6} {'load':>5} "
            f"{'peak RSS MB':>12} {'RSS growth MB':>13}  rows"
        )
        self.stdout.write(header)
        for r in results:
            self.stdout.write(
                f"{r['phase']:<8} {r['status']:<10} {r['wall']:>7.2f} {r['rows_per_s']:>8,.0f} "
                f"{r['queries_per_page']:>7.1f} {r['http']:>7.2f} {r['client']:>8.2f} "
                f"{r['wall'] - r['client']:>7.2f} {r['cpu']:>6.1f} {r['load']:>5.1f} "
                f"{r['max_rss_mb']:>12.0f} {r['rss_growth_mb']:>13.1f}  "
                f"{r['created']:,} new, {r['updated']:,} changed, {r['unchanged']:,} unchanged"
            )
        for r in results:
            for label, ms in (r.get("autocomplete") or {}).items():
                self.stdout.write(f"admin customer autocomplete, {label}: {ms:.1f} ms")
        self.stdout.write(
            "http s = time inside the client's HTTP requests (emulator + transfer); client s = "
            "time waiting for the next page from the client (http s plus the client's decoding, "
            "exchange redaction, rate budget); refs s = the rest (mapping, hashing, database); "
            "cpu s = CPU time of the syncing process; load = the machine's 1-minute load "
            "average at the end (other work on the machine slows every figure but cpu s). "
            "peak RSS = the syncing process's "
            "maximum resident size, Django included; RSS growth = how much of it the sync added."
        )

    # --- the child: one measured sync ---------------------------------------------------------

    def _measure(self, *, phase, profile):
        from django.db import connection as db

        from railzpush.railz import get_client
        from refs.models import Connection
        from refs.services import connections_discover, refs_sync

        http_seconds = 0.0

        def on_exchange(exchange):
            nonlocal http_seconds
            http_seconds += exchange.duration_ms / 1000

        client = get_client(on_exchange=on_exchange)
        discovery = connections_discover(client=client)
        if discovery.status != "succeeded":
            raise CommandError(f"discovery failed: {discovery.error}")
        connection = Connection.objects.get(connection_uuid=BENCH_CONNECTION)
        http_seconds = client_seconds = 0.0
        iter_pages = client.iter_pages

        def timed_pages(*args, **kwargs):
            # Time spent getting each page from the client: HTTP plus the client's own work
            # (decoding, redacting the exchange, rate budget); the rest is the sync's.
            nonlocal client_seconds
            pages = iter_pages(*args, **kwargs)
            while True:
                started = time.perf_counter()
                try:
                    page = next(pages)
                except StopIteration:
                    client_seconds += time.perf_counter() - started
                    return
                client_seconds += time.perf_counter() - started
                yield page

        client.iter_pages = timed_pages
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        rss_before = _max_rss_mb()
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        with db.execute_wrapper(count):
            run = refs_sync(connection=connection, data_type="customers", client=client)
        wall = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
        if profiler is not None:
            profiler.disable()
        rows = run.created + run.updated + run.unchanged + run.skipped
        result = {
            "phase": phase,
            "status": run.status,
            "error": run.error,
            "wall": wall,
            "rows": rows,
            "rows_per_s": rows / wall if wall else 0,
            "pages": run.pages,
            "queries": queries,
            "queries_per_page": queries / max(run.pages, 1),
            "http": http_seconds,
            "client": client_seconds,
            "cpu": cpu,
            "load": os.getloadavg()[0],
            "created": run.created,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "max_rss_mb": _max_rss_mb(),
            "rss_growth_mb": max(0.0, _max_rss_mb() - rss_before),
        }
        if phase == "resync":
            result["autocomplete"] = _autocomplete_timings(connection)
        if profiler is not None:
            import io
            import pstats

            buffer = io.StringIO()
            pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(25)
            result["profile"] = f"--- profile of the {phase} sync ---\n" + buffer.getvalue()
        self.stdout.write(RESULT_PREFIX + json.dumps(result))


def _autocomplete_timings(connection) -> dict[str, float]:
    """Milliseconds (median of 5) for the admin's customer autocomplete on this connection."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from refs.models import Customer

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    browser = Client(HTTP_HOST="127.0.0.1")
    browser.force_login(user)
    sample = Customer.objects.filter(connection=connection).order_by("remote_id")[500]
    terms = {
        "common letters": sample.name[:2],
        "a whole name": sample.name,
        "no match (scans all)": "zzqx",
        "empty (first page)": "",
    }
    timings = {}
    for label, term in terms.items():
        durations = []
        for _ in range(5):
            started = time.perf_counter()
            response = browser.get(
                "/admin/autocomplete/",
                {
                    "app_label": "refs",
                    "model_name": "customer",
                    "field_name": "parent",
                    "term": term,
                    "connection": connection.pk,
                },
            )
            durations.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise CommandError(f"autocomplete answered {response.status_code}")
        timings[f"{label} {term!r}"] = sorted(durations)[2]
    return timings


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError("the emulator server exited before it was ready")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise CommandError(f"the emulator server did not listen on port {port} in {timeout} s")
