"""Push new customers and journal entries end to end, with batching on and then off, and print
Railz calls per record, records per second and CPU seconds per record side by side.

Each mode runs as bench_push does, in processes of its own on a scratch SQLite database: the
web app with the emulator mounted (gunicorn, receiving the emulator's signed webhooks), a
django-q2 cluster, and this command queuing every record's push and waiting until each is
finished. The only difference between the two runs is PUSH_BATCH_ENABLED. Railz calls are
counted from the server's access log (every request to the fake Railz, token fetches
included), so nothing in the app counts itself.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pushes.management.commands.bench_push import (
    BENCH_SERVICE,
    CLUSTER_BOOT,
    GUNICORN_CONFIG,
    QUERY_DIR_ENV,
    _free_port,
    _wait_for_port,
)
from pushes.management.scratch import scratch_env

TARGET_CALLS_PER_RECORD = 0.05
BATCHED_TYPES = ("customers", "journalEntries")


def _children_cpu_seconds() -> float:
    """CPU time of every finished child process (server, emulator, cluster, queuing)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _calls(access_log: Path) -> Counter:
    """Railz calls by kind, read from the server's access log (`METHOD PATH STATUS`)."""
    calls: Counter = Counter()
    for line in access_log.read_text().splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        method, path = parts[0], parts[1]
        if path.startswith("/emulator/api/"):
            if method in ("POST", "PUT", "DELETE") and path.endswith("/batch"):
                calls["batch"] += 1
            elif method in ("POST", "PUT", "DELETE"):
                calls["single"] += 1
            elif path.endswith(("/pushStatus", "/deleteStatus")):
                calls["status"] += 1
            else:
                calls["other"] += 1
        elif path.startswith("/emulator/auth/"):
            calls["token"] += 1
        elif path.startswith("/webhooks/railz"):
            calls["webhooks"] += 1
    calls["railz"] = sum(calls[k] for k in ("batch", "single", "status", "other", "token"))
    return calls


def _compose(counts: dict[str, int]) -> str:
    """The bench connection (the emulator's QuickBooks business) and its ready records, each
    named "Bench ..." so the emulator's copy can be told apart from the demo data."""
    import datetime as dt

    from django.utils import timezone

    from pushes import registry
    from pushes.services.records import record_create
    from pushes.spec import LineData, RecordData
    from railzpush.emulator import demo_data
    from refs.models import Account, Connection

    demo = next(c for c in demo_data.DEMO_CONNECTIONS if c["service_name"] == BENCH_SERVICE)
    connection, _ = Connection.objects.get_or_create(
        connection_uuid=demo["connection_uuid"],
        defaults={
            "business_uuid": demo["business_uuid"],
            "business_name": demo["business_name"],
            "service_name": BENCH_SERVICE,
            "status": Connection.Status.ACTIVE,
        },
    )
    made = []
    if counts["customers"]:
        for n in range(counts["customers"]):
            data = RecordData(connection=connection, status="ready", name=f"Bench customer {n}")
            record_create(data_type="customers", data=data)
        made.append(f"{counts['customers']} customers")
    if counts["journalEntries"] and "journalEntries" in registry.PUSHABLE_TYPES:
        item = next(iter(demo_data.records(demo["connection_uuid"], "accounts")))
        account, _ = Account.objects.get_or_create(
            connection=connection,
            remote_id=str(item["id"]),
            defaults={
                "name": item["name"],
                "status": "active",
                "content_hash": "0" * 32,
                "synced_at": timezone.now(),
            },
        )
        for n in range(counts["journalEntries"]):
            lines = [
                LineData(description="Accrual", account=account, debit="125.00"),
                LineData(description="Accrual", account=account, credit="125.00"),
            ]
            data = RecordData(
                connection=connection,
                status="ready",
                journal_number=f"BJ-{n}",
                posted_date=dt.date(2026, 11, 30),
                memo=f"Bench journal entry {n}",
                lines=lines,
            )
            record_create(data_type="journalEntries", data=data)
        made.append(f"{counts['journalEntries']} journal entries")
    elif counts["journalEntries"]:
        made.append("no journal entries (that record type is not declared here yet)")
    return " and ".join(made) + f" on {connection}"


class Command(BaseCommand):
    help = (
        "Push new customers and journal entries end to end against the emulator with batching "
        "on and off; print Railz calls, records per second and CPU seconds per record."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=1000)
        parser.add_argument("--journal-entries", type=int, default=1000)
        parser.add_argument("--workers", type=int, default=2, help="django-q2 workers")
        parser.add_argument("--timeout", type=float, default=900, help="seconds to wait, each")
        parser.add_argument("--modes", default="on,off", help="batching modes to run, in order")
        # Internal: the steps run inside the scratch environment.
        parser.add_argument("--step", choices=["prepare", "run"], help="(internal)")

    def handle(self, *args, **options):
        counts = {"customers": options["customers"], "journalEntries": options["journal_entries"]}
        if min(counts.values()) < 0 or sum(counts.values()) < 1 or options["workers"] < 1:
            raise CommandError("push at least one record, with at least one worker")
        if options["step"] == "prepare":
            return self._prepare(counts)
        if options["step"] == "run":
            return self._run(options["timeout"])
        modes = [m.strip() for m in options["modes"].split(",") if m.strip()]
        if not modes or set(modes) - {"on", "off"}:
            raise CommandError("--modes is a comma-separated list of on and off")
        results = {mode: self._one_run(options, counts, batching=mode == "on") for mode in modes}
        self._report(counts, options, results)

    # --- the parent: one scratch environment per mode -----------------------------------------

    def _one_run(self, options, counts: dict[str, int], *, batching: bool) -> dict:
        scratch = Path(tempfile.mkdtemp(prefix="bench_batch-"))
        (scratch / "queries").mkdir()
        port = _free_port()
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        env = scratch_env(
            database=f"sqlite:///{scratch / 'bench.sqlite3'}",
            scratch=scratch,
            SITE_URL=f"http://127.0.0.1:{port}",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            Q_WORKERS=str(options["workers"]),
            Q_POLL="0.05",
            RAILZ_EMULATOR_PUSH_DELAY_SECONDS="0",
            LOG_LEVEL="WARNING",
            PUSH_BATCH_ENABLED="1" if batching else "0",
            **{QUERY_DIR_ENV: str(scratch / "queries")},
        )
        sizes = [
            "--customers",
            str(counts["customers"]),
            "--journal-entries",
            str(counts["journalEntries"]),
        ]
        log = (scratch / "processes.log").open("w")
        processes: list[subprocess.Popen] = []
        self.stdout.write(f"Batching {'on' if batching else 'off'}: scratch environment {scratch}")
        try:
            subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True)  # noqa: S603
            prepare = [*manage, "bench_batch", "--step", "prepare", *sizes]
            subprocess.run(prepare, env=env, check=True)  # noqa: S603
            cpu_before = _children_cpu_seconds()
            (scratch / "gunicorn.conf.py").write_text(GUNICORN_CONFIG)
            gunicorn = str(Path(sys.executable).parent / "gunicorn")
            server = [gunicorn, "railzpush.wsgi:application"]
            server += ["-c", str(scratch / "gunicorn.conf.py")]
            server += ["-b", f"127.0.0.1:{port}", "-k", "gthread", "-w", "2", "--threads", "8"]
            server += ["--access-logfile", str(scratch / "access.log")]
            server += ["--access-logformat", "%(m)s %(U)s %(s)s"]
            processes.append(
                subprocess.Popen(server, env=env, cwd=settings.BASE_DIR, stdout=log, stderr=log)  # noqa: S603
            )
            _wait_for_port(port, 30)
            processes.append(
                subprocess.Popen(  # noqa: S603
                    [sys.executable, "-c", CLUSTER_BOOT],
                    env=env,
                    cwd=settings.BASE_DIR,
                    stdout=log,
                    stderr=log,
                )
            )
            run = subprocess.run(  # noqa: S603
                [*manage, "bench_batch", "--step", "run", *sizes],
                env={**env, "BENCH_TIMEOUT": str(options["timeout"])},
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
        outcome["calls"] = _calls(scratch / "access.log")
        shutil.rmtree(scratch, ignore_errors=True)
        return outcome

    def _report(self, counts: dict[str, int], options, results: dict[str, dict]) -> None:
        records = sum(counts.values())
        modes = list(results)
        rows = {
            "final states": lambda r: str(r["states"]),
            "one provider record each": lambda r: str(r["one_record_each"]),
            "wall time (s)": lambda r: f"{r['wall_seconds']:.1f}",
            "records per second": lambda r: f"{records / r['wall_seconds']:.1f}",
            "Railz calls per record": lambda r: f"{r['calls']['railz'] / records:.3f}",
            "  batch writes": lambda r: str(r["calls"]["batch"]),
            "  single writes": lambda r: str(r["calls"]["single"]),
            "  pushStatus": lambda r: str(r["calls"]["status"]),
            "  token and other reads": lambda r: str(r["calls"]["token"] + r["calls"]["other"]),
            "CPU seconds per record": lambda r: f"{r['cpu_seconds'] / records:.4f}",
            "webhooks received": lambda r: str(r["calls"]["webhooks"]),
        }
        self.stdout.write("")
        self.stdout.write(
            f"bench_batch: {counts['customers']} new customers + {counts['journalEntries']} "
            f"journal entries on one {BENCH_SERVICE} connection, {options['workers']} workers "
            f"(SQLite, ORM broker); load average {os.getloadavg()[0]:.1f}"
        )
        header = "".join(f"{'batching ' + mode:>26}" for mode in modes)
        self.stdout.write(f"  {'':<26}{header}")
        for label, cell in rows.items():
            self.stdout.write(f"  {label:<26}" + "".join(f"{cell(results[m]):>26}" for m in modes))
        if "on" in results:
            per_record = results["on"]["calls"]["railz"] / records
            verdict = "met" if per_record <= TARGET_CALLS_PER_RECORD else "NOT met"
            self.stdout.write(
                f"  target of at most {TARGET_CALLS_PER_RECORD} Railz calls per record with "
                f"batching on: {verdict} ({per_record:.3f})"
            )

    # --- the steps inside the scratch environment ---------------------------------------------

    def _prepare(self, counts: dict[str, int]) -> None:
        """Seed the emulator, mirror its QuickBooks business and compose the records."""
        from django.utils import timezone
        from django_q.models import Schedule

        from pushes.schedules import schedules as push_schedules
        from railzpush.emulator import records

        records.emulator_seed()
        for job in push_schedules():
            Schedule.objects.create(
                name=job.name,
                func=job.func,
                schedule_type=Schedule.MINUTES,
                minutes=job.minutes,
                repeats=-1,
                next_run=timezone.now(),
            )
        made = _compose(counts)
        self.stdout.write(f"Prepared {made}")

    def _run(self, timeout_default: float) -> None:
        """Queue a push of every record, wait until all are finished; one JSON line out."""
        from django.db.models import Count
        from django_q.tasks import async_task, fetch

        from pushes import registry
        from pushes.models import PushRequest
        from pushes.services.push_requests import pushes_request_bulk
        from railzpush.emulator.models import EmuRecord

        timeout = float(os.environ.get("BENCH_TIMEOUT") or timeout_default)
        ready = async_task("math.floor", 1.5)
        if fetch(ready, wait=60_000) is None:
            raise CommandError("the django-q2 cluster did not start within 60 s")
        to_push = []
        for data_type in BATCHED_TYPES:
            if data_type in registry.PUSHABLE_TYPES:
                model = registry.for_data_type(data_type).model
                to_push.extend(model._default_manager.select_related("connection"))
        started = time.monotonic()
        result = pushes_request_bulk(records=to_push, user=None, source=PushRequest.Source.SYSTEM)
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
        # Every record created in the emulator names the bench record it came from.
        made = Counter()
        for data_type in BATCHED_TYPES:
            for body in EmuRecord.objects.filter(data_type=data_type).values_list(
                "body", flat=True
            ):
                memo = json.loads(body).get("memo") or json.loads(body).get("customerName") or ""
                if str(memo).startswith("Bench "):
                    made[memo] += 1
        print(  # the parent reads this line
            json.dumps(
                {
                    "pushes": len(result.created),
                    "wall_seconds": wall,
                    "states": states,
                    "one_record_each": len(made) == len(to_push)
                    and all(n == 1 for n in made.values()),
                }
            )
        )
