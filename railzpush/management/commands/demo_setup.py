"""Idempotent demo set-up for `make run`: a staff login, demo businesses and their reference
data, schedules.

The reference data is mirrored before the server starts, so the first page a person opens
already has the businesses, customers and accounts to compose with. The emulator is a part of
this app, so the mirror reads it in-process, through the same Railz client, instead of over a
server that is not running yet.
"""

import io
import os
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

DEMO_USERNAME = "demo"
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "railzpush-demo")


class InProcessAdapter(requests.adapters.BaseAdapter):
    """Hands a request to this app's own WSGI handler: the emulator answers without a server."""

    def send(self, request, **kwargs):
        from django.core.handlers.wsgi import WSGIHandler

        url = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        environ = {
            "REQUEST_METHOD": request.method,
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "SERVER_NAME": url.hostname or "127.0.0.1",
            "SERVER_PORT": str(url.port or 80),
            "HTTP_HOST": url.netloc,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": url.scheme,
            "wsgi.errors": io.StringIO(),
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": True,
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        for name, value in request.headers.items():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[f"HTTP_{key}"] = value
        started = {}

        def start_response(status, headers, exc_info=None):
            started["status"], started["headers"] = status, headers

        chunks = WSGIHandler()(environ, start_response)
        response = requests.Response()
        response.status_code = int(started["status"].split()[0])
        response.headers = requests.structures.CaseInsensitiveDict(started["headers"])
        response._content = b"".join(chunks)
        response.url, response.request, response.encoding = request.url, request, "utf-8"
        return response

    def close(self):
        pass


def demo_refs_sync() -> int:
    """Mirror every demo business's reference data from the emulator; how many businesses."""
    from railzpush.railz import get_client
    from refs.models import Connection
    from refs.services import connection_sync, connections_discover

    session = requests.Session()
    session.mount("http://", InProcessAdapter())
    session.mount("https://", InProcessAdapter())
    client = get_client(session=session)
    connections_discover(client=client)
    active = Connection.objects.filter(status=Connection.Status.ACTIVE)
    for connection in active:
        connection_sync(connection=connection, client=client)
    return active.count()


def demo_login_line(site_url: str = "") -> str:
    """The staff login `make run` prints last, as the server starts answering."""
    user = get_user_model().objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        return ""
    password = (
        DEMO_PASSWORD if user.check_password(DEMO_PASSWORD) else "(the password you set for it)"
    )
    return f"Staff login: {DEMO_USERNAME} / {password}  at {site_url or settings.SITE_URL}/admin/"


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
        if settings.RAILZ_EMULATOR:
            synced = demo_refs_sync()
            self.stdout.write(f"Reference data mirrored for {synced} demo businesses.")
        if "setup_schedules" in available:
            call_command("setup_schedules", verbosity=options["verbosity"])
        self.stdout.write(self.style.SUCCESS(demo_login_line()))
