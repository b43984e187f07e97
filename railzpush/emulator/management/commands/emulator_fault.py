"""Switch the Railz emulator's faults on and off from the shell (for demos and load tests)."""

import argparse
import json

from django.core.management.base import BaseCommand, CommandError

from railzpush.emulator import control
from railzpush.emulator.responses import ApiError


class Command(BaseCommand):
    help = (
        "Switch emulator faults for one connection (--connection) or every request. "
        "--reset forgets all emulator state and re-seeds; --clear switches faults off."
    )

    def add_arguments(self, parser):
        parser.add_argument("--connection", default="", help="connectionUuid (default: all)")
        parser.add_argument("--reset", action="store_true", help="reset the whole emulator")
        parser.add_argument("--clear", action="store_true", help="switch faults off")
        parser.add_argument("--latency-ms", type=int)
        parser.add_argument("--error-rate", type=float, help="share of requests answered 5xx")
        parser.add_argument("--error-status", type=int)
        parser.add_argument("--storm-requests", type=int, help="next N requests answer 429")
        parser.add_argument("--storm-seconds", type=float, help="429 for this many seconds")
        parser.add_argument(
            "--stay-pending", action=argparse.BooleanOptionalAction, help="pushes never complete"
        )
        parser.add_argument("--duplicate-webhooks", action=argparse.BooleanOptionalAction)
        parser.add_argument("--out-of-order-webhooks", action=argparse.BooleanOptionalAction)
        parser.add_argument("--lose-answer", choices=["drop", "stall", "off"])
        parser.add_argument("--stall-seconds", type=float)
        parser.add_argument("--show", action="store_true", help="print the emulator's state")

    def handle(self, *args, connection, reset, clear, show, **options):
        try:
            if reset:
                control.act({"action": "reset"})
                self.stdout.write(self.style.SUCCESS("emulator reset and re-seeded"))
            if clear:
                control.act({"action": "clear_faults", "connectionUuid": connection or None})
                self.stdout.write(self.style.SUCCESS("faults cleared"))
            body = {
                key: value
                for key in (
                    "latency_ms",
                    "error_rate",
                    "error_status",
                    "storm_requests",
                    "storm_seconds",
                    "stay_pending",
                    "duplicate_webhooks",
                    "out_of_order_webhooks",
                    "lose_answer",
                    "stall_seconds",
                )
                if (value := options.get(key)) is not None
            }
            if body.get("lose_answer") == "off":
                body["lose_answer"] = ""
            if body:
                control.act({"action": "set_faults", "connectionUuid": connection, **body})
                where = connection or "every connection"
                self.stdout.write(self.style.SUCCESS(f"faults set for {where}: {body}"))
        except ApiError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if show or not (reset or clear or body):
            self.stdout.write(json.dumps(control.state()["faults"], indent=2))
