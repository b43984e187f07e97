import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = Path(
    os.environ.get("RAILZ_OPENAPI_SPEC", ROOT.parent / "shared" / "railz" / "openapi-v2.yaml")
)


@pytest.fixture(scope="session")
def railz_spec():
    """Railz's public OpenAPI v2 spec, read from beside the checkout (never copied into it)."""
    import yaml

    if not SPEC_PATH.exists():
        pytest.fail(f"Railz spec not found at {SPEC_PATH}; set RAILZ_OPENAPI_SPEC")
    with SPEC_PATH.open() as fh:
        return yaml.load(fh, Loader=yaml.CSafeLoader)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, and on PostgreSQL no straggling session when it is dropped.

    Connections persist (CONN_MAX_AGE), and the live server's request threads are daemons that
    keep a keep-alive socket, and so their connection, past the last test; PostgreSQL refuses to
    drop a database someone is connected to.
    """
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture(autouse=True)
def _quick_passwords(settings):
    """Passwords are hashed with a fast hasher: with the default (PBKDF2, a million rounds, about
    a quarter of a CPU second a hash) the users the suite creates and logs in cost a third of its
    time. A hash made with the default still verifies (it stays listed after the fast one)."""
    from django.conf import global_settings

    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *global_settings.PASSWORD_HASHERS,
    ]


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test gets an empty in-process cache (token, rate budget)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


from tests.fixtures.emulator import *  # noqa: E402, F403
from tests.fixtures.railz import *  # noqa: E402, F403
from tests.fixtures.refs import *  # noqa: E402, F403
