"""A kept PostgreSQL connection is checked without a round trip, and a dead one still fails it.

Django checks a kept connection before its first use in each request and task; its check sends
`SELECT 1`. Ours reads the socket instead: a server that ended the connection has said so there.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from django.conf import settings
from django.db import connections

pytestmark = [
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="needs DATABASE_URL on PostgreSQL"),
    pytest.mark.django_db,
]


@pytest.fixture
def kept():
    """A second connection to the test database, outside the test's transaction, as a web
    thread or a worker keeps it between requests."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


@pytest.fixture
def statements(monkeypatch):
    """Every statement psycopg sends through a cursor, written down."""
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def counted(self, query, *args, **kwargs):
        sent.append(str(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    return sent


def _other(kept) -> psycopg.Connection:
    params = kept.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return psycopg.connect(autocommit=True, **params)


def _wait_until_readable(kept, timeout: float = 30.0) -> None:
    from railzpush.db.postgresql.base import _has_input

    deadline = time.monotonic() + timeout
    while not _has_input(kept.connection.fileno()):
        assert time.monotonic() < deadline, "the server's message never arrived"
        time.sleep(0.05)


def test_an_idle_healthy_connection_is_usable_without_a_statement(kept, statements):
    assert kept.is_usable()
    assert statements == []


def test_a_connection_the_server_ended_is_not_usable_and_is_replaced(kept, statements):
    pid = kept.connection.info.backend_pid
    with _other(kept) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    _wait_until_readable(kept)

    assert not kept.is_usable()

    # As at the start of a request: the check closes it, and the next query reconnects.
    kept.health_check_done = False
    kept.close_if_health_check_failed()
    assert kept.connection is None
    with kept.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_connection_with_something_to_read_is_asked_as_django_asks(kept, statements):
    with kept.cursor() as cursor:
        cursor.execute("LISTEN railzpush_health_check_test")
    with _other(kept) as other:
        other.execute("NOTIFY railzpush_health_check_test")
    _wait_until_readable(kept)
    statements.clear()

    assert kept.is_usable()
    assert statements == ["SELECT 1"]


def test_a_connection_inside_a_transaction_is_asked_as_django_asks(kept, statements):
    with kept.cursor() as cursor:
        kept.set_autocommit(False)
        cursor.execute("SELECT 2")
        statements.clear()

        assert kept.is_usable()
        assert statements == ["SELECT 1"]
        kept.rollback()
        kept.set_autocommit(True)
