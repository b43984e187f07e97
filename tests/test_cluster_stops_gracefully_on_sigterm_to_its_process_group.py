"""SIGTERM to the process group of `manage.py qcluster` (as a supervisor or container runtime
sends it) or of `manage.py serve` (the `make run` group) lets the task in hand finish and the
whole group exit: the push being sent when the signal came is recorded, not lost.

The processes run for real (subprocesses on this test's database and broker); the task is a
push send whose Railz answers after a few seconds. Waits are generous: the machine may be busy.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from pushes.models import PushRequest
from pushes.services.push_requests import push_request_create
from tests.conftest import ROOT
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import ready_invoice

pytestmark = pytest.mark.django_db(transaction=True)

SEND_SECONDS = 6
BOOT_TIMEOUT = 180
STOP_TIMEOUT = 120


def slow_send(push_request_id: int, marker: str) -> str:
    """The task: send the push through a Railz that answers after SEND_SECONDS."""
    from pushes.services.push_requests import push_request_submit
    from tests.fixtures.pushes import FakePushClient

    class SlowRailz(FakePushClient):
        def create(self, *args, **kwargs):
            Path(marker).write_text("sending")
            time.sleep(SEND_SECONDS)
            return super().create(*args, **kwargs)

    push = push_request_submit(push_request_id=push_request_id, client=SlowRailz())
    return f"push {push_request_id}: {push.state if push else 'not queued'}"


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def _once(process) -> None:
    os.killpg(process.pid, signal.SIGTERM)


def _again(process) -> None:
    """The group's SIGTERM, then the main process's again and again while it stops (`make run`
    and `serve` forward it to a cluster whose group already got it; supervisors repeat it):
    a signal handled while the first stop is under way must not enter it again (it would wait
    for ever on the lock of the stop event the first one holds)."""
    os.killpg(process.pid, signal.SIGTERM)
    for _ in range(500):
        time.sleep(0.002)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)


@pytest.mark.parametrize(
    ("command", "signals"),
    [("qcluster", _once), ("serve", _once), ("qcluster", _again)],
    ids=["qcluster", "serve", "qcluster-signalled-again"],
)
def test_sigterm_to_the_group_finishes_the_push_in_hand_and_exits(
    command, signals, tmp_path, push_staff, monkeypatch
):
    from django_q.tasks import async_task

    number = f"INV-{command[:5]}{signals.__name__}"  # at most 21 characters in QuickBooks
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=number)
    # Queue the push without its usual send; the cluster runs the slow one below.
    monkeypatch.setattr("pushes.queue.async_task", lambda *args, **kwargs: None)
    push = push_request_create(record=invoice, user=push_staff)
    marker = tmp_path / "sending"

    args = [sys.executable, "manage.py", command]
    if command == "serve":
        args.append(f"127.0.0.1:{_free_port()}")
    env = {**os.environ, "DATABASE_URL": _database_url(), "Q_WORKERS": "1"}
    log = (tmp_path / "process.log").open("w")
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        async_task(f"{__name__}.slow_send", push.pk, str(marker))
        assert _wait_for(marker.exists, BOOT_TIMEOUT), (tmp_path / "process.log").read_text()
        assert PushRequest.objects.get(pk=push.pk).state == "submitting"

        signals(process)

        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"{command} still running {STOP_TIMEOUT} s after SIGTERM:\n"
                + (tmp_path / "process.log").read_text()[-3000:]
            )
        assert _wait_for(lambda: not _group_alive(process.pid), 30), "processes left behind"
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
        log.close()

    # The send in hand was finished and Railz's answer recorded.
    push = PushRequest.objects.get(pk=push.pk)
    assert push.state == "pending", (tmp_path / "process.log").read_text()[-3000:]
    assert push.push_communication_id


def test_only_the_first_signal_asks_the_cluster_to_stop():
    from django_q.cluster import Cluster

    cluster = Cluster.__new__(Cluster)  # nothing started, no signal disposition changed
    stops = []
    cluster.stop = lambda: stops.append("stop")
    cluster.sig_handler(signal.SIGTERM, None)
    cluster.sig_handler(signal.SIGTERM, None)
    cluster.sig_handler(signal.SIGINT, None)
    assert stops == ["stop"]


def test_every_cluster_of_the_project_runs_the_graceful_sentinel():
    from django_q import cluster

    from railzpush.cluster import GracefulSentinel

    assert cluster.Sentinel is GracefulSentinel


class _FakeWorker:
    """Stands in for a worker process: records how it was ended."""

    def __init__(self, *, alive=True, timer=0.0):
        from multiprocessing import Value

        self.pid = 2**22 + 7  # no such process
        self.name = "Process-fake"
        self.timer = Value("f", timer)
        self.alive = alive
        self.ended_by: list[str] = []

    def is_alive(self):
        return self.alive

    def terminate(self):
        self.ended_by.append("SIGTERM")

    def kill(self):
        self.ended_by.append("SIGKILL")


@pytest.fixture
def sentinel(monkeypatch):
    """A GracefulSentinel that was never started (nothing forked, no signal disposition of this
    test process changed)."""
    from django_q.brokers import get_broker

    from railzpush import cluster

    monkeypatch.setattr(cluster.signal, "signal", lambda *args: None)
    built = cluster.GracefulSentinel(None, None, "cluster-id", get_broker(), 60, start=False)
    monkeypatch.setattr(built, "spawn_worker", lambda: None)
    return built


def test_a_worker_past_the_task_timeout_is_killed_since_it_ignores_sigterm(sentinel):
    overdue = _FakeWorker(timer=0.0)
    sentinel.pool = [overdue]
    sentinel.reincarnate(overdue)
    assert overdue.ended_by == ["SIGKILL"]
    assert overdue not in sentinel.pool


def test_a_stop_kills_the_workers_still_busy_at_its_deadline(sentinel):
    from railzpush.cluster import STOP_GRACE_SECONDS

    busy, finished = _FakeWorker(alive=True), _FakeWorker(alive=False)
    sentinel.pool = [busy, finished]
    assert sentinel.timeout + STOP_GRACE_SECONDS == 70
    sentinel._kill_busy_workers()
    assert (busy.ended_by, finished.ended_by) == (["SIGKILL"], [])
