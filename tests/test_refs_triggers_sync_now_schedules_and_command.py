"""The ways a sync starts: the admin's "Sync now", the periodic refresh written by
setup_schedules, and `manage.py sync_refs` with its progress bar."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.signals import pre_enqueue

from refs.management.commands.setup_schedules import declared_schedules
from refs.models import Connection, Customer, SyncRun
from refs.schedules import schedules
from refs.tasks import SYNC_TASK, refs_refresh_task
from tests.fixtures.emulator import DEMO_OLD_MILL, DEMO_XERO


@pytest.fixture
def enqueued():
    """Every task handed to django-q2's broker, whatever the broker is."""
    tasks = []

    def record(sender, task, **kwargs):
        tasks.append(task)

    pre_enqueue.connect(record, dispatch_uid="refs-test-enqueued")
    yield tasks
    pre_enqueue.disconnect(dispatch_uid="refs-test-enqueued")


def test_setup_schedules_twice_leaves_one_schedule_per_declared_job(db, settings):
    call_command("setup_schedules", verbosity=0)
    call_command("setup_schedules", verbosity=0)
    declared = declared_schedules()  # every app's, the refresh among them
    assert schedules()[0] in declared
    assert schedules()[0].minutes == settings.REFS_SYNC_INTERVAL_MINUTES
    assert Schedule.objects.count() == len(declared)
    for job in declared:
        schedule = Schedule.objects.get(name=job.name)
        assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
            job.func,
            Schedule.MINUTES,
            job.minutes,
            -1,
        )


def test_setup_schedules_updates_a_changed_interval_and_removes_duplicates(db, settings):
    call_command("setup_schedules", verbosity=0)
    name = schedules()[0].name
    Schedule.objects.create(name=name, func="refs.tasks.refs_refresh_task")  # a stray copy
    settings.REFS_SYNC_INTERVAL_MINUTES = 15
    out = io.StringIO()
    call_command("setup_schedules", stdout=out)
    assert Schedule.objects.filter(name=name).count() == 1
    assert Schedule.objects.get(name=name).minutes == 15
    assert f"{name}: every 15 min (updated)" in out.getvalue()


def test_sync_now_enqueues_one_task_per_connection_after_commit(
    refs_admin, enqueued, django_capture_on_commit_callbacks
):
    connections = [
        Connection.objects.create(connection_uuid=f"CON-{n}", service_name="xero", status="active")
        for n in range(2)
    ]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = refs_admin.post(
            reverse("admin:refs_connection_changelist"),
            {"action": "sync_now", "_selected_action": [c.pk for c in connections]},
            follow=True,
        )
    assert response.status_code == 200
    assert "Queued a sync of the reference data of 2 connection(s)." in response.content.decode()
    assert enqueued == []  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()
    assert sorted((t["func"], t["args"]) for t in enqueued) == sorted(
        (SYNC_TASK, (c.pk,)) for c in connections
    )


def test_sync_now_runs_the_sync_in_a_worker(
    emulator, refs_admin, monkeypatch, django_capture_on_commit_callbacks
):
    # Wiring only: django-q2 runs the task in-process, against the emulator.
    monkeypatch.setattr(Conf, "SYNC", True)
    xero = Connection.objects.create(
        connection_uuid=DEMO_XERO, service_name="xero", status="active"
    )
    with django_capture_on_commit_callbacks(execute=True):
        refs_admin.post(
            reverse("admin:refs_connection_changelist"),
            {"action": "sync_now", "_selected_action": [xero.pk]},
        )
    assert SyncRun.objects.filter(connection=xero, status=SyncRun.Status.SUCCEEDED).count() >= 7
    assert Customer.objects.filter(connection=xero).count() == 250


def test_periodic_refresh_discovers_then_queues_only_active_connections(emulator, enqueued):
    queued = refs_refresh_task()
    active = set(Connection.objects.active().values_list("pk", flat=True))
    assert queued == len(active) == 3
    assert {t["args"][0] for t in enqueued} == active
    assert not Connection.objects.get(connection_uuid=DEMO_OLD_MILL).is_active


def test_sync_refs_command_discovers_and_syncs_with_a_progress_bar(emulator):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "sync_refs", "--connection", DEMO_XERO, "--type", "customers", stdout=out, stderr=err
    )
    assert "connections: 4 new" in out.getvalue()
    assert "customers: succeeded" in out.getvalue().lower()
    assert "250 new" in out.getvalue()
    assert "[##############################] 250/250" in err.getvalue()
    assert Customer.objects.count() == 250


def test_sync_refs_command_names_an_unknown_connection(emulator):
    with pytest.raises(CommandError, match="CON-nope"):
        call_command("sync_refs", "--connection", "CON-nope", stdout=io.StringIO())
