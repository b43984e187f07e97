"""Ask Railz about pending pushes now (what the scheduled poll does), optionally reconciling."""

from django.core.management.base import BaseCommand

from pushes.services.push_requests import pushes_poll_due
from pushes.services.reconcile import pushes_reconcile_unknown


class Command(BaseCommand):
    help = (
        "Poll GET /v2/data/pushStatus once per connection with pending pushes due for a look; "
        "with --reconcile, also settle unknown pushes and those whose worker stopped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reconcile", action="store_true")

    def handle(self, *args, reconcile: bool, **options):
        result = pushes_poll_due()
        self.stdout.write(
            f"Polled {result.connections} connection(s); {result.changed} push(es) changed."
        )
        for error in result.errors:
            self.stderr.write(error)
        if reconcile:
            acted = pushes_reconcile_unknown()
            self.stdout.write(
                f"Reconciled {acted.asked} unknown push(es): {acted.done} settled, "
                f"{len(acted.skipped)} not settled."
            )
            for reason in acted.skipped:
                self.stdout.write(reason)
