"""django-q2's worker cluster, made to stop gracefully when its process group gets SIGTERM.

Operators and supervisors stop a cluster by signalling its whole process group (`kill -TERM
-<pgid>`, a container runtime, `make run`'s Ctrl-C sends SIGINT the same way). django-q2 (1.9)
lets only the main process handle the signal: its sentinel resets SIGTERM to the default
action and every worker, the pusher and the monitor inherit that, so the group's SIGTERM kills
them mid-task, and the main process, asked to stop, then waits for ever on an event the dead
sentinel can no longer acknowledge.

`GracefulSentinel` makes the sentinel and everything it forks ignore SIGTERM (as django-q2
already has them ignore SIGINT): the main process alone reacts, by asking the sentinel to
stop, which lets each worker finish the task in hand before it exits. Two things the default
action did are kept: a worker past the task timeout is killed (SIGKILL instead of SIGTERM,
which it now ignores), and a stop waits for a busy worker no longer than the task timeout (plus
STOP_GRACE_SECONDS), after which the worker is killed; a push it was sending is then left to
its push lease (`pushes_expire_leases`), never lost.

The main process reacts to the first signal only. django-q2's handler sets the stop event and
waits for the sentinel; setting the event holds its lock until the sentinel has woken, and a
second signal handled meanwhile (the group's SIGTERM and then the one `serve` forwards, or a
supervisor repeating it) entered the handler again and waited for ever on that lock, so the
cluster never stopped. A later signal now finds the stop under way and leaves it alone.

`install()` (called from the app's `ready`) puts both in place in django-q2, so
`manage.py qcluster`, `manage.py serve` and the benchmarks all run them.
"""

from __future__ import annotations

import logging
import signal
import threading

from django_q import cluster as q_cluster

logger = logging.getLogger("railzpush")

STOP_GRACE_SECONDS = 10


class GracefulSentinel(q_cluster.Sentinel):
    def __init__(self, stop_event, start_event, cluster_id, broker=None, timeout=None, start=True):
        super().__init__(stop_event, start_event, cluster_id, broker, timeout, start=False)
        # Inherited by every process forked from here on: workers, pusher, monitor.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if start:
            self.start()

    def reincarnate(self, process):
        # django-q2 ends a worker past the task timeout with terminate() (SIGTERM), which the
        # workers now ignore.
        process.terminate = process.kill
        super().reincarnate(process)

    def stop(self):
        # While stopping, the guard that kills overdue workers no longer runs: a task that
        # never ends must not hold the stop for ever.
        deadline = threading.Timer(self.timeout + STOP_GRACE_SECONDS, self._kill_busy_workers)
        deadline.daemon = True
        deadline.start()
        try:
            super().stop()
        finally:
            deadline.cancel()

    def _kill_busy_workers(self):
        for process in list(self.pool):
            if process.is_alive():
                logger.warning(
                    "worker %s still busy %s s after the cluster was asked to stop; killed",
                    process.pid,
                    self.timeout + STOP_GRACE_SECONDS,
                )
                process.kill()


_asks_to_stop = q_cluster.Cluster.sig_handler


def _stop_once(cluster, signum, frame):
    """The main process's handler of SIGTERM and SIGINT: the first asks the sentinel to stop,
    a later one, while that stop is under way, does nothing."""
    if cluster.__dict__.get("_stop_asked"):
        return
    cluster._stop_asked = True
    _asks_to_stop(cluster, signum, frame)


def install() -> None:
    """Run every cluster of this project with GracefulSentinel (django-q2's Cluster.start
    creates its sentinel from the module's `Sentinel`) and its main process stopping once
    (Cluster.__init__ hands the class's handler to `signal.signal`)."""
    q_cluster.Sentinel = GracefulSentinel
    q_cluster.Cluster.sig_handler = _stop_once
