"""Create the emulator's demo businesses and their reference data (idempotent)."""

import time

from django.core.management.base import BaseCommand

from railzpush.emulator import control, records

SIZE_OPTIONS = {"customers": "customers", "vendors": "vendors", "items": "inventory"}


class Command(BaseCommand):
    help = (
        "Seed the Railz emulator with its deterministic demo businesses. Running it twice "
        "changes nothing; --customers/--vendors/--items re-create those lists at that size."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="forget everything first")
        parser.add_argument("--customers", type=int, help="customers per connection")
        parser.add_argument("--vendors", type=int, help="vendors per connection")
        parser.add_argument("--items", type=int, help="inventory items per connection")
        parser.add_argument(
            "--connection",
            action="append",
            dest="connections",
            help="apply the sizes to this connection only (repeatable)",
        )
        parser.add_argument(
            "--data-delay",
            type=float,
            default=0,
            help="reads answer 202 (data being prepared) for this many seconds",
        )

    def handle(self, *args, reset, connections, data_delay, **options):
        counts = {}
        for option, data_type in SIZE_OPTIONS.items():
            value = options.get(option)
            if value is not None:
                if value < 0:
                    self.stderr.write(f"--{option} must be 0 or more")
                    raise SystemExit(2)
                counts[data_type] = value
        started = time.monotonic()
        if reset:
            changes = control.emulator_reset(counts=counts)
        else:
            changes = records.emulator_seed(counts=counts, connection_uuids=connections)
        if data_delay:
            records.connection_set_data_ready(connection=None, seconds=data_delay)
        elapsed = time.monotonic() - started
        for change in changes:
            self.stdout.write(f"  {change}")
        summary = "emulator seeded" if changes else "emulator already seeded, nothing changed"
        self.stdout.write(self.style.SUCCESS(f"{summary} in {elapsed:.2f} s"))
