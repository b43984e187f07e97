"""A party's address country is an ISO alpha-3 code, as Railz's Address type says, and its
email looks like one; lengths are Railz's own, read from its schema."""

from __future__ import annotations

import pytest

from pushes.services.records import record_save_problems
from pushes.spec import RecordData
from railzpush.railz.datatypes import ADDRESS, CUSTOMER
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def _problems(status="ready", **values):
    data = RecordData(connection=ConnectionFactory(), status=status, name="Acme", **values)
    return [(p.field, p.rule) for p in record_save_problems(data_type="customers", data=data)]


def test_a_country_must_be_three_capital_letters_even_in_a_draft():
    assert _problems(status="draft", billing_country="CA") == [("billingAddress.country", "format")]
    assert _problems(status="draft", billing_country="Canada") == [
        ("billingAddress.country", "maxLength")
    ]
    assert _problems(shipping_country="ca") == [("shippingAddress.country", "format")]
    assert _problems(billing_country="CAN", shipping_country="USA") == []


def test_an_email_must_look_like_one_to_be_ready():
    assert _problems(email="accounts at acme") == [("emailAddress", "format")]
    assert _problems(status="draft", email="accounts at acme") == []


def test_lengths_come_from_the_railz_schema():
    too_long_city = "x" * (ADDRESS.fields["city"].max_length + 1)
    too_long_phone = "1" * (CUSTOMER.fields["phone"].max_length + 1)

    assert _problems(status="draft", billing_city=too_long_city, phone=too_long_phone) == [
        ("phone", "maxLength"),
        ("billingAddress.city", "maxLength"),
    ]
