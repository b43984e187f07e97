"""The emulator books journal entries as the providers do: an unbalanced entry or a line with
both sides fails as the provider answers it, and an entityRef must name a customer or vendor
that exists."""

from __future__ import annotations

from tests.fixtures.emulator import DEMO_QUICKBOOKS, demo_ref


def _status(client, answer):
    found = client.push_status(
        connection_uuid=DEMO_QUICKBOOKS, push_communication_id=answer["pushCommunicationId"]
    )
    return found["data"][0]


def _journal(client, *lines):
    return client.create(
        "journalEntries",
        connection_uuid=DEMO_QUICKBOOKS,
        data={"journalNumber": "JE-EMU", "postedDate": "2026-11-30", "lines": list(lines)},
    )


def _line(**values):
    return {"accountRef": {"id": demo_ref(DEMO_QUICKBOOKS, "accounts")}, **values}


def test_a_balanced_entry_with_an_entity_is_booked(emulator_client):
    customer = demo_ref(DEMO_QUICKBOOKS, "customers")
    answer = _journal(
        emulator_client,
        _line(debit=120.5, entityRef={"id": customer, "type": "customer"}),
        _line(credit=120.5),
    )

    status = _status(emulator_client, answer)

    assert status["status"] == "success", status
    assert status["sourceObjectIds"]


def test_an_unbalanced_entry_and_a_two_sided_line_fail_as_the_provider_says(emulator_client):
    answer = _journal(emulator_client, _line(debit=100, credit=5), _line(credit=60))

    status = _status(emulator_client, answer)

    assert status["status"] == "failed" and status["responseCode"] == 400
    assert status["validation"]["errors"] == [
        {
            "field": "lines[0]",
            "message": "A journal line can have either a debit or a credit amount, not both",
        },
        {
            "field": "lines",
            "message": "Transaction must be balanced: debits total 100.00, credits total 65.00",
        },
    ]


def test_an_entity_that_does_not_exist_fails_the_push(emulator_client):
    answer = _journal(
        emulator_client,
        _line(debit=1, entityRef={"id": "404404", "type": "vendor"}),
        _line(credit=1),
    )

    errors = _status(emulator_client, answer)["validation"]["errors"]

    assert errors == [{"field": "lines[0].entityRef.id", "message": "Vendor 404404 does not exist"}]
