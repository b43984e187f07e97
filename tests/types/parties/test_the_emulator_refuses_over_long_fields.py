"""A party field longer than Railz allows is refused by the emulator synchronously, with a 400
naming each field as Railz does, before anything reaches the accounting system."""

from __future__ import annotations

import pytest

from railzpush.railz import RailzRejected
from tests.fixtures.emulator import DEMO_QUICKBOOKS


def test_an_over_long_party_field_is_refused_before_it_is_accepted(emulator_client):
    with pytest.raises(RailzRejected) as raised:
        emulator_client.create(
            "customers",
            connection_uuid=DEMO_QUICKBOOKS,
            data={"customerName": "N" * 501, "billingAddress": {"postalCode": "9" * 31}},
        )

    assert raised.value.messages == [
        "data.billingAddress.postalCode must be shorter than or equal to 30 characters",
        "data.customerName must be shorter than or equal to 500 characters",
    ]
