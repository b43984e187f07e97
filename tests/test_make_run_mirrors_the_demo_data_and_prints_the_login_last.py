"""`make run`'s set-up mirrors the demo businesses' reference data before the server starts
(the emulator answers in-process), so the first page already has customers and accounts to
compose with, and its last line is the staff login."""

from io import StringIO

import pytest
from django.core.management import call_command

from refs.models import Account, Connection, Customer

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_setup_mirrors_every_demo_business_and_ends_with_the_login(settings):
    settings.RAILZ_API_URL = "http://127.0.0.1:8000/emulator/api"
    settings.RAILZ_AUTH_URL = "http://127.0.0.1:8000/emulator/auth/getAccess"
    settings.RAILZ_PROVIDER_LIMITS = {}
    out = StringIO()

    call_command("demo_setup", stdout=out)

    active = Connection.objects.filter(status=Connection.Status.ACTIVE)
    assert active.count() >= 3
    for connection in active:
        assert Customer.objects.filter(connection=connection).exists(), connection
        assert Account.objects.filter(connection=connection).exists(), connection
        assert connection.last_synced_at is not None
    lines = out.getvalue().strip().splitlines()
    assert lines[-1].startswith("Staff login: demo / railzpush-demo")
