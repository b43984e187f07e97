"""Mirror the reference data of Railz connections now, with a progress bar on stderr."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from refs.mapping import REF_TYPES
from refs.models import Connection, SyncRun
from refs.services import connection_sync, connections_discover


class ProgressBar:
    """One line per (connection, type), redrawn in place: rows so far of the total, rows/s."""

    WIDTH = 30

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream
        self.started: dict[int, float] = {}
        self.rows: dict[int, int] = {}
        self.interactive = stream.isatty()

    def __call__(self, run: SyncRun, page) -> None:
        started = self.started.setdefault(run.pk, time.monotonic())
        self.rows[run.pk] = done = self.rows.get(run.pk, 0) + len(page.items)
        total = max(page.count or done, done)
        filled = round(self.WIDTH * done / total) if total else self.WIDTH
        rate = done / max(time.monotonic() - started, 1e-6)
        line = (
            f"{run.connection} {run.data_type:<18} [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{done:,}/{total:,} {rate:,.0f} rows/s"
        )
        if self.interactive:
            self.stream.write(f"\r{line}\x1b[K", ending="")
        elif done >= total:
            self.stream.write(line)
        self.stream.flush()

    def end_line(self, run: SyncRun) -> None:
        if self.interactive and run.pk in self.rows:
            self.stream.write("")
            self.stream.flush()


class Command(BaseCommand):
    help = (
        "Discover Railz connections, then mirror the reference data of every active one "
        "(or of --connection) now."
    )

    def add_arguments(self, parser):
        parser.add_argument("--connection", help="connection_uuid of one connection to sync")
        parser.add_argument(
            "--type",
            action="append",
            dest="types",
            choices=list(REF_TYPES),
            help="reference type to sync (repeatable; default: all)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, connection, types, no_progress, **options):
        discovery = connections_discover()
        if discovery.status != SyncRun.Status.SUCCEEDED:
            raise CommandError(f"Could not list the Railz connections: {discovery.error}")
        self.stdout.write(
            f"connections: {discovery.created} new, {discovery.updated} changed, "
            f"{discovery.unchanged} unchanged, {discovery.archived} no longer listed"
        )
        if connection:
            selected = list(Connection.objects.filter(connection_uuid=connection))
            if not selected:
                raise CommandError(
                    f"--connection {connection!r} is not a connection Railz lists; known: "
                    + ", ".join(Connection.objects.values_list("connection_uuid", flat=True))
                )
        else:
            selected = list(Connection.objects.active())
        progress = None if no_progress else ProgressBar(self.stderr)
        failed = 0
        for item in selected:
            for run in connection_sync(
                connection=item,
                data_types=types,
                on_page=progress,
            ):
                if progress is not None:
                    progress.end_line(run)
                self.stdout.write(self._describe(item, run))
                failed += run.status in (SyncRun.Status.FAILED, SyncRun.Status.NOT_READY)
        if failed:
            raise CommandError(f"{failed} sync run(s) did not finish; see the lines above")

    def _describe(self, connection: Connection, run: SyncRun) -> str:
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0
        line = (
            f"{connection} {run.data_type}: {run.get_status_display()} in {seconds:.1f} s, "
            f"{run.created} new, {run.updated} changed, {run.unchanged} unchanged, "
            f"{run.archived} archived, {run.skipped} skipped"
        )
        if run.error:
            line += f" — {run.error}"
        style = self.style.SUCCESS if run.status == SyncRun.Status.SUCCEEDED else self.style.WARNING
        return style(line)
