"""Write the periodic jobs declared in code (`<app>.schedules.schedules()`) to django-q2.

Idempotent: each declared job ends up as exactly one Schedule with that name; a changed
interval or function is updated in place, duplicates are removed.
"""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule


def declared_schedules() -> list:
    declared = []
    for app_config in apps.get_app_configs():
        try:
            module = import_module(f"{app_config.name}.schedules")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app_config.name}.schedules":
                raise
            continue
        declared.extend(module.schedules())
    return declared


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules declared by the apps (safe to re-run)."

    def handle(self, *args, **options):
        for job in declared_schedules():
            with transaction.atomic():
                existing = list(Schedule.objects.filter(name=job.name).order_by("pk"))
                wanted = {
                    "func": job.func,
                    "schedule_type": Schedule.MINUTES,
                    "minutes": job.minutes,
                    "repeats": -1,
                }
                if not existing:
                    Schedule.objects.create(name=job.name, next_run=timezone.now(), **wanted)
                    outcome = "created"
                else:
                    keep, extra = existing[0], existing[1:]
                    Schedule.objects.filter(pk__in=[s.pk for s in extra]).delete()
                    changed = {k: v for k, v in wanted.items() if getattr(keep, k) != v}
                    if changed:
                        Schedule.objects.filter(pk=keep.pk).update(**changed)
                    outcome = "updated" if changed or extra else "unchanged"
            if options["verbosity"]:
                self.stdout.write(f"{job.name}: every {job.minutes} min ({outcome})")
