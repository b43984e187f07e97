"""Serve the web app and a django-q2 worker cluster as one foreground process group."""

import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from railzpush.cluster import STOP_GRACE_SECONDS
from railzpush.management.commands.demo_setup import demo_login_line


def _answers(host: str, port: int, *, children, wait: float = 30.0) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and all(c.poll() is None for c in children):
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


class Command(BaseCommand):
    help = (
        "Run the web server and the django-q2 cluster together; Ctrl-C or SIGTERM (to this "
        "process or its group) stops both cleanly, letting tasks in hand finish."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children = [
            subprocess.Popen([*manage, "qcluster"]),  # noqa: S603
            subprocess.Popen([*manage, "runserver", addrport, "--noreload"]),  # noqa: S603
        ]
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"Serving on http://{addrport}/admin/ with {settings.Q_WORKERS} workers")
        self.stdout.flush()
        host, _, port = addrport.rpartition(":")
        if _answers(host or "127.0.0.1", int(port), children=children):
            # Last, once the server answers: what a person needs to log in.
            login = demo_login_line(f"http://{addrport}")
            if login:
                self.stdout.write(self.style.SUCCESS(login))
                self.stdout.flush()
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.2)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            # The cluster lets each worker finish its task (bounded by the task timeout, see
            # railzpush.cluster); the web server stops at once.
            started = time.monotonic()
            budgets = (settings.Q_CLUSTER["timeout"] + STOP_GRACE_SECONDS + 5, 15)
            for child, budget in zip(children, budgets, strict=True):
                try:
                    child.wait(timeout=max(0.1, started + budget - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [c.args[-1] for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            self.stderr.write(f"stopped because a child exited: {failed}")
            sys.exit(1)
