"""The dashboard never reads the whole push request table: its counts, hourly chart and
connections pushed this week read the running totals (pushes_pushhourcount), its failures a
range of the pushes_state_sent index.

Each statement the dashboard runs is explained with the parameters it ran with. On SQLite the
plan is what the planner picks by itself (it has no statistics); a few rows in PostgreSQL are
always cheaper to read in full, so there sequential scans are switched off and the plan must
still find an index for every read of push requests.
"""

import datetime as dt
import re

import pytest
from django.db import connection

from pushes.dashboard import dashboard_build
from tests.fixtures.emulator import DEMO_QUICKBOOKS, DEMO_XERO
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.query_plans import postgresql_plans, sqlite_plans, statements_run
from tests.test_dashboard_counts_failures_and_query_budget import NOW, _push

pytestmark = pytest.mark.django_db

TABLE = "pushes_pushrequest"


@pytest.fixture
def pushes_in_every_state(time_machine):
    time_machine.move_to(NOW, tick=False)
    states = ("success", "failed", "rejected", "unknown", "pending", "queued", "cancelled")
    for hours, state in enumerate(states * 2):
        connection_uuid = (DEMO_XERO, DEMO_QUICKBOOKS)[hours % 2]
        _push(
            connection_uuid,
            state,
            at=NOW - dt.timedelta(hours=hours * 13),
            sent_at=NOW - dt.timedelta(hours=hours),
        )


def _dashboard_statements(table: str = TABLE) -> list[tuple[str, tuple]]:
    """The statements dashboard_build runs that read `table`, with their parameters."""
    return statements_run(lambda: dashboard_build(now=NOW), table)


def _aliases(sql: str) -> set[str]:
    """The names the statement gives the push request table (subqueries alias it U0, U1...)."""
    return {TABLE} | set(re.findall(rf'"{TABLE}" (U\d+)', sql))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own query plans")
def test_on_sqlite_every_read_of_pushes_searches_an_index(pushes_in_every_state):
    statements = _dashboard_statements()
    # failures (the page and their total in one), unknown pushes by reason; the counts, the
    # chart and the connections pushed this week read the running totals instead
    assert len(statements) == 2
    assert len(_dashboard_statements("pushes_pushhourcount")) == 3
    used = set()
    for sql, plan in sqlite_plans(statements):
        for alias in _aliases(sql):
            # "SCAN t" reads the table, "SCAN t USING INDEX i" a whole index: both read
            # every push; "SEARCH t USING INDEX i (...)" reads only a range of it.
            assert not [line for line in plan if line.startswith(f"SCAN {alias}")], (sql, plan)
        used |= set(re.findall(r"USING (?:COVERING )?INDEX (\w+)", " ".join(plan)))
    assert "pushes_state_sent" in used


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's query plans")
def test_on_postgresql_every_read_of_pushes_can_use_an_index(pushes_in_every_state):
    statements = _dashboard_statements()
    assert len(statements) == 2
    used = set()
    for sql, plan in postgresql_plans(statements):
        assert f"Seq Scan on {TABLE}" not in plan, (sql, plan)
        used |= set(re.findall(r" (?:on|using) (pushes_\w+)", plan))
    assert "pushes_state_sent" in used
