"""The queue keeps successful task results for Q_SUCCESS_KEEP_HOURS without django-q2's
per-task pruning, and an hourly schedule deletes older ones; failures are never purged."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Failure, Schedule, Success, Task
from django_q.monitor import save_task

from railzpush.tasks import task_successes_purge, task_successes_purge_task

pytestmark = pytest.mark.django_db


def _task(n, *, success=True, age=timedelta(0)):
    stopped = timezone.now() - age
    return Task.objects.create(
        id=f"task-{n}",
        name=f"task {n}",
        func="pushes.tasks.push_submit_task",
        args=(n,),
        kwargs={},
        started=stopped - timedelta(seconds=1),
        stopped=stopped,
        result="done",
        success=success,
        group="pushes",
    )


def _package(n):
    now = timezone.now()
    return {
        "id": f"new-{n}",
        "name": f"new {n}",
        "func": "pushes.tasks.push_submit_task",
        "args": (n,),
        "kwargs": {},
        "started": now,
        "stopped": now,
        "result": "done",
        "success": True,
        "group": "pushes",
        "sync": True,
    }


def test_a_finished_task_is_saved_without_pruning_earlier_successes():
    assert Conf.SAVE_LIMIT == 0
    for n in range(5):
        _task(n)
    save_task(_package(1), broker=None)
    assert Success.objects.count() == 6


def test_purge_deletes_successes_older_than_the_limit_and_keeps_the_rest(settings):
    settings.Q_SUCCESS_KEEP_HOURS = 24
    for n in range(3):
        _task(n, age=timedelta(hours=30))
    _task(10, age=timedelta(hours=2))
    _task(11, success=False, age=timedelta(days=10))

    assert task_successes_purge_task() == 3

    assert list(Success.objects.values_list("id", flat=True)) == ["task-10"]
    assert list(Failure.objects.values_list("id", flat=True)) == ["task-11"]


def test_purge_works_through_more_rows_than_one_batch(monkeypatch):
    monkeypatch.setattr("railzpush.tasks.PURGE_BATCH", 2)
    for n in range(5):
        _task(n, age=timedelta(hours=2))
    assert task_successes_purge(keep_hours=1) == 5
    assert not Success.objects.exists()


def test_setup_schedules_declares_the_hourly_purge():
    call_command("setup_schedules", verbosity=0)
    schedule = Schedule.objects.get(name="railzpush: purge old successful tasks")
    assert (schedule.func, schedule.minutes) == ("railzpush.tasks.task_successes_purge_task", 60)
