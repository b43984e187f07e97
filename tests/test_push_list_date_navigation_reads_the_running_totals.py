"""The push list's date navigation offers the years, months and days that have pushes, read
from the running totals per hour (a probe per period, in as many queries for a year of
history as for a day), never from the pushes; an hour whose total fell back to zero is no
date to offer, and a date typed by hand that names no date offers nothing."""

import datetime as dt
import re

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pushes.models import PushHourCount
from tests.factories import ConnectionFactory, invoice_plain_static  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_plain_static")]

URL = "admin:pushes_pushrequest_changelist"


def hours(*moments, count=1, connection=None):
    connection = connection or ConnectionFactory()
    for moment in moments:
        PushHourCount.objects.create(
            hour=dt.datetime(*moment, tzinfo=dt.UTC),
            connection=connection,
            column="success",
            count=count,
        )
    return connection


def offered(admin_client, **params) -> set[str]:
    """The navigation's links, as the `created_at__*` values each one sets."""
    query = {f"created_at__{k}": v for k, v in params.items()}
    html = admin_client.get(reverse(URL), query).content.decode()
    navigation = re.search(r'<nav class="toplinks">(.*?)</nav>', html, re.S)
    if navigation is None:
        return set()
    return set(re.findall(r"href=\"\?([^\"]*)\"", navigation.group(1)))


def test_it_offers_the_periods_with_pushes_and_not_the_emptied_ones(admin_client):
    hours((2025, 3, 4, 10), (2025, 3, 9, 12), (2025, 7, 1, 9), (2026, 1, 2, 15))
    hours((2024, 5, 5, 10), count=0)  # its pushes moved on: nothing left in that hour

    years = offered(admin_client)
    assert {link for link in years if "year=2025" in link}
    assert {link for link in years if "year=2026" in link}
    assert not {link for link in years if "year=2024" in link}

    months = offered(admin_client, year=2025)
    assert {re.search(r"month=(\d+)", link).group(1) for link in months if "month=" in link} == {
        "3",
        "7",
    }

    days = offered(admin_client, year=2025, month=3)
    assert {re.search(r"day=(\d+)", link).group(1) for link in days if "day=" in link} == {
        "4",
        "9",
    }


def test_a_long_history_costs_the_same_queries_as_a_short_one(admin_client):
    hours((2025, 3, 4, 10))
    admin_client.get(reverse(URL))  # content types and the like cached from here on
    with CaptureQueriesContext(db) as short:
        admin_client.get(reverse(URL))
    hours(*[(year, month, 1, 12) for year in (2019, 2021, 2023) for month in range(1, 13)])
    with CaptureQueriesContext(db) as long:
        assert admin_client.get(reverse(URL)).status_code == 200
    assert len(long) == len(short)
    assert not [q for q in long if "django_datetime_trunc" in q["sql"]]


def test_a_date_that_is_no_date_offers_nothing_and_is_no_error(admin_client):
    hours((2025, 3, 4, 10))
    for params in ({"year": "x"}, {"year": "2025", "month": "13"}, {"year": "99999"}):
        query = {f"created_at__{k}": v for k, v in params.items()}
        assert admin_client.get(reverse(URL), query).status_code in (200, 302)
