"""Idempotent demo set-up for `make run`: a staff login, demo businesses, schedules."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

DEMO_USERNAME = "demo"
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "railzpush-demo")


class Command(BaseCommand):
    help = "Create the demo staff login, seed the emulator's demo businesses and write schedules."

    def handle(self, *args, **options):
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        available = get_commands()
        if settings.RAILZ_EMULATOR and "emulator_seed" in available:
            call_command("emulator_seed", verbosity=options["verbosity"])
        if "setup_schedules" in available:
            call_command("setup_schedules", verbosity=options["verbosity"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo staff login: {DEMO_USERNAME} / "
                f"{DEMO_PASSWORD if created else '(unchanged since first run)'}"
                f"  at {settings.SITE_URL}/admin/"
            )
        )
