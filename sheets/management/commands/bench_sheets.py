"""Benchmark spreadsheet imports and exports on a scratch database.

    python manage.py bench_sheets

Builds a throw-away SQLite database (var/bench-sheets/, or --database-url), seeds one business
with 100,000 customers, then, each phase in a fresh process so that its peak memory is its own:
imports a generated 10,000-row invoice CSV (2,000 invoices x 5 lines) and a 5,000-row bill
workbook (1,000 bills x 5 lines), checking every row and then writing every record, and exports
100,000 push requests as CSV and as XLSX. Prints rows validated per second and records written
per second (of wall time and of the process's CPU time), database queries per record checked and
per record written, and the peak memory (max RSS) of each phase. `--profile` also prints where the
CPU time of each import's check and write goes (cProfile).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

RESULT_PREFIX = "BENCH-RESULT "
CONNECTION_UUID = "CON-bench-sheets-0001"
PHASES = ("seed", "invoices", "bills", "export")
PROFILE_LINES = 25


class Command(BaseCommand):
    help = "Time importing 10,000 invoice rows and 5,000 bill rows, and exporting 100,000 pushes."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--invoices", type=int, default=2_000)
        parser.add_argument("--bills", type=int, default=1_000)
        parser.add_argument("--lines", type=int, default=5)
        parser.add_argument("--pushes", type=int, default=100_000)
        parser.add_argument("--database-url", help="default: SQLite in var/bench-sheets/")
        parser.add_argument("--keep", action="store_true", help="keep var/bench-sheets/")
        parser.add_argument(
            "--profile",
            action="store_true",
            help="profile the check and the write of each import and print where the CPU goes",
        )
        parser.add_argument("--phase", choices=PHASES, help="(internal)")

    def handle(self, *args, phase, **options):
        if phase:
            result = getattr(self, f"_phase_{phase}")(**options)
            result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            self.stdout.write(RESULT_PREFIX + json.dumps(result))
            return
        self._orchestrate(**options)

    # --- the parent -----------------------------------------------------------------------------

    def _orchestrate(self, *, database_url, keep, **options):
        bench_dir = Path(settings.VAR_DIR) / "bench-sheets"
        shutil.rmtree(bench_dir, ignore_errors=True)
        bench_dir.mkdir(parents=True)
        env = {
            **os.environ,
            "DATABASE_URL": database_url or f"sqlite:///{bench_dir / 'bench.sqlite3'}",
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret-key",
            "RAILZ_EMULATOR": "1",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "RAILZPUSH_VAR_DIR": str(bench_dir),
        }
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        # Our own interpreter and manage.py, with fixed arguments.
        subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True)  # noqa: S603
        flags = [
            f"--{name}={options[name]}"
            for name in ("customers", "invoices", "bills", "lines", "pushes")
        ]
        if options["profile"]:
            flags.append("--profile")
        results = {}
        for phase in PHASES:
            self.stdout.write(f"… {phase}")
            done = subprocess.run(  # noqa: S603
                [*manage, "bench_sheets", f"--phase={phase}", *flags],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            if options["profile"] and phase in ("invoices", "bills"):
                self.stdout.write(done.stdout.split(RESULT_PREFIX)[0])
            line = next(x for x in done.stdout.splitlines() if x.startswith(RESULT_PREFIX))
            results[phase] = json.loads(line.removeprefix(RESULT_PREFIX))
        self._report(results)
        if not keep:
            shutil.rmtree(bench_dir, ignore_errors=True)

    def _report(self, results):
        seed = results["seed"]
        self.stdout.write(
            f"\nBusiness with {seed['customers']:,} customers, {seed['vendors']:,} vendors "
            f"(seeded in {seed['seconds']:.0f} s)\n"
        )
        self.stdout.write(
            f"{'import':<16}{'rows':>7}{'records':>8}{'check s':>8}{'rows/s':>8}{'rows/cpu s':>11}"
            f"{'q/record':>9}{'written':>8}{'write s':>8}{'written/s':>10}{'/cpu s':>7}"
            f"{'q/written':>10}{'peak MB':>8}"
        )
        for phase in ("invoices", "bills"):
            r = results[phase]
            self.stdout.write(
                f"{r['label']:<16}{r['rows']:>7,}{r['records']:>8,}{r['check_seconds']:>8.1f}"
                f"{r['rows_per_second']:>8,.0f}{r['rows_per_cpu_second']:>11,.0f}"
                f"{r['queries_per_record']:>9.2f}{r['written']:>8,}{r['write_seconds']:>8.1f}"
                f"{r['written_per_second']:>10,.0f}{r['written_per_cpu_second']:>7,.0f}"
                f"{r['write_queries_per_record']:>10.2f}{r['peak_rss_mb']:>8}"
            )
        e = results["export"]
        self.stdout.write(
            f"\nExport of {e['pushes']:,} push requests: CSV {e['csv_seconds']:.1f} s "
            f"(CPU {e['csv_cpu']:.1f} s, {e['csv_mb']:.1f} MB), XLSX {e['xlsx_seconds']:.1f} s "
            f"(CPU {e['xlsx_cpu']:.1f} s, {e['xlsx_mb']:.1f} MB); peak memory {e['peak_rss_mb']} MB"
        )
        self.stdout.write(
            "\nrows/s = rows read, matched and checked per second of wall time (target ≥ 2,000), "
            "rows/cpu s per second of this process's CPU time (what the figure would be on an "
            f"idle machine; load average now {os.getloadavg()[0]:.1f}); q/record = database "
            "queries per record during the check; peak MB = the phase's max RSS (target < 300)."
        )

    # --- the phases, each in its own process ----------------------------------------------------

    def _phase_seed(self, *, customers, invoices, bills, pushes, **_):
        from django.contrib.contenttypes.models import ContentType
        from django.utils import timezone

        from pushes.models import Invoice, PushRequest
        from refs.models import Account, Connection, Customer, Item, TaxRate, Vendor

        started = time.perf_counter()
        now = timezone.now()
        business = Connection.objects.create(
            connection_uuid=CONNECTION_UUID,
            business_name="Bench Ltd",
            service_name="quickbooks",
            status="active",
            base_currency="CAD",
        )
        common = {"connection": business, "content_hash": "x", "synced_at": now, "status": "active"}
        for model, count, prefix in ((Customer, customers, "C"), (Vendor, max(bills, 1), "V")):
            for start in range(0, count, 5000):
                model.objects.bulk_create(
                    [
                        model(
                            remote_id=f"{prefix}-{n}",
                            name=f"{model.__name__} {n:06d}",
                            email=f"{prefix.lower()}{n}@bench.test",
                            **common,
                        )
                        for n in range(start, min(count, start + 5000))
                    ]
                )
        Account.objects.bulk_create(
            [
                Account(remote_id=f"A-{n}", name=f"Account {n}", code=f"{4000 + n}", **common)
                for n in range(50)
            ]
        )
        Item.objects.bulk_create(
            [
                Item(remote_id=f"I-{n}", name=f"Item {n}", code=f"SKU-{n}", **common)
                for n in range(50)
            ]
        )
        TaxRate.objects.bulk_create(
            [
                TaxRate(remote_id=f"T-{n}", name=f"Tax {n}", code=f"TX{n}", **common)
                for n in range(5)
            ]
        )
        invoice = Invoice.objects.create(connection=business)
        content_type = ContentType.objects.get_for_model(Invoice)
        for start in range(0, pushes, 10_000):
            PushRequest.objects.bulk_create(
                [
                    PushRequest(
                        content_type=content_type,
                        object_id=invoice.pk,
                        connection=business,
                        data_type="invoices",
                        operation="create",
                        state="failed" if n % 10 == 0 else "success",
                        provider_record_id=f"QBO-{n}",
                        last_error="Railz answered 500 six times." if n % 10 == 0 else "",
                    )
                    for n in range(start, min(pushes, start + 10_000))
                ]
            )
        return {
            "customers": customers,
            "vendors": max(bills, 1),
            "seconds": time.perf_counter() - started,
        }

    def _phase_invoices(self, *, invoices, lines, customers, profile=False, **_):
        rows = []
        for n in range(invoices):
            for line in range(lines):
                first = line == 0
                rows.append(
                    [
                        f"INV-{n}",
                        f"Customer {n * 37 % customers:06d}" if first else "",
                        f"INV-{n}" if first else "",
                        "2026-11-02" if first else "",
                        "02/12/2026" if first else "",
                        f"Line {line + 1}",
                        "1,000" if line == 4 else "2",
                        "100.50",
                        f"{4000 + line}",
                        f"SKU-{line}",
                        "Tax 1",
                    ]
                )
        headers = [
            "Key",
            "Customer",
            "Invoice number",
            "Posted date",
            "Due date",
            "Line description",
            "Line quantity",
            "Line unit amount",
            "Line account",
            "Line item",
            "Line tax rate",
        ]
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows(rows)
        content = out.getvalue().encode()
        del rows, out
        return self._import("invoices", content, "in.csv", label="invoices (CSV)", profile=profile)

    def _phase_bills(self, *, bills, lines, profile=False, **_):
        import io

        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Bills")
        sheet.append(
            [
                "Key",
                "Vendor",
                "Vendor invoice number",
                "Posted date",
                "Line description",
                "Line quantity",
                "Line unit amount",
                "Line account",
            ]
        )
        for n in range(bills):
            for line in range(lines):
                first = line == 0
                sheet.append(
                    [
                        f"BILL-{n}",
                        f"v{n}@bench.test" if first else None,
                        f"VB-{n}" if first else None,
                        "2026-11-02" if first else None,
                        f"Line {line + 1}",
                        2,
                        100.5,
                        f"Account {line}",
                    ]
                )
        out = io.BytesIO()
        workbook.save(out)
        return self._import(
            "bills", out.getvalue(), "in.xlsx", label="bills (XLSX)", profile=profile
        )

    def _import(self, data_type, content, file_name, *, label, profile=False):
        from django.db import connection

        from refs.models import Connection
        from sheets.models import SheetImport
        from sheets.services import import_check, import_confirm

        # Measure the work, not the queue: the write runs here whatever the file's size.
        settings.IMPORT_BACKGROUND_BYTES = 10**12
        business = Connection.objects.get(connection_uuid=CONNECTION_UUID)
        sheet_import = SheetImport.objects.create(
            connection=business,
            data_type=data_type,
            file_name=file_name,
            content=content,
            size=len(content),
        )
        del content
        queries = [0]

        def count(execute, sql, params, many, context):
            queries[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started, cpu = time.perf_counter(), _cpu_seconds()
            checked = self._profiled(
                profile, f"{label}: check", lambda: import_check(sheet_import_id=sheet_import.pk)
            )
            check_seconds = time.perf_counter() - started
            check_cpu = _cpu_seconds() - cpu
            check_queries = queries[0]
            started, cpu = time.perf_counter(), _cpu_seconds()
            done = self._profiled(
                profile, f"{label}: write", lambda: import_confirm(sheet_import=checked)
            )
            write_seconds = time.perf_counter() - started
            write_cpu = _cpu_seconds() - cpu
            write_queries = queries[0] - check_queries
        counts = checked.preview["counts"]
        if done.state != SheetImport.State.DONE:
            raise RuntimeError(f"{label}: the import is {done.state}, not done")
        records = sum(counts.values())
        written = done.preview.get("created", 0)
        if counts["problem"]:
            first = checked.preview["problems"][0]
            self.stderr.write(f"{label}: {counts['problem']} with problems, first: {first}")
        return {
            "label": label,
            "rows": checked.preview["rows"],
            "records": records,
            "counts": counts,
            "check_seconds": check_seconds,
            "rows_per_second": checked.preview["rows"] / check_seconds,
            "rows_per_cpu_second": checked.preview["rows"] / max(check_cpu, 1e-9),
            "written_per_cpu_second": written / max(write_cpu, 1e-9),
            "write_queries_per_record": write_queries / max(written, 1),
            "written": written,
            "queries_per_record": check_queries / max(records, 1),
            "write_seconds": write_seconds,
            "written_per_second": written / max(write_seconds, 1e-9),
        }

    def _profiled(self, profile: bool, title: str, step):
        """Run one step of an import, under cProfile when asked, printing where its CPU went."""
        if not profile:
            return step()
        import cProfile
        import io
        import pstats

        # CPU time, not wall time: on a shared machine the wall clock counts others' work.
        profiler = cProfile.Profile(time.process_time)
        result = profiler.runcall(step)
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(PROFILE_LINES)
            self.stdout.write(f"\n=== {title}, by {order} ===")
            self.stdout.write("ncalls" + out.getvalue().split("ncalls", 1)[-1])
        return result

    def _phase_export(self, *, pushes, **_):
        from pushes.models import PushRequest
        from sheets.exports import push_export_rows
        from sheets.writing import _csv_lines, rows_xlsx_file

        started, cpu = time.perf_counter(), _cpu_seconds()
        headers, rows = push_export_rows(PushRequest.objects.order_by("-created_at", "-pk"))
        size = sum(len(chunk.encode()) for chunk in _csv_lines(headers, rows))
        csv_seconds, csv_cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        started, cpu = time.perf_counter(), _cpu_seconds()
        headers, rows = push_export_rows(PushRequest.objects.order_by("-created_at", "-pk"))
        handle = rows_xlsx_file(headers, rows)
        xlsx_size = handle.seek(0, 2)
        handle.close()
        return {
            "pushes": pushes,
            "csv_seconds": csv_seconds,
            "csv_cpu": csv_cpu,
            "csv_mb": size / 1e6,
            "xlsx_seconds": time.perf_counter() - started,
            "xlsx_cpu": _cpu_seconds() - cpu,
            "xlsx_mb": xlsx_size / 1e6,
        }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
