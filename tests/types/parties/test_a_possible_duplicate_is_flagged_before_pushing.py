"""A customer or vendor named or addressed like one the mirror already holds is flagged before
it is pushed (the admin and `validate` show a note naming that row), without being refused:
two businesses may share a name. The party a record edits is not its own duplicate."""

from __future__ import annotations

import pytest

from pushes.services.records import record_create, record_notes, record_validate
from pushes.spec import RecordData
from tests.factories import ConnectionFactory, CustomerFactory, VendorFactory
from tests.fixtures.api import *  # noqa: F403

pytestmark = pytest.mark.django_db

PARTIES = [("customers", CustomerFactory, "customerName"), ("vendors", VendorFactory, "vendorName")]


def _record(data_type, connection, **values):
    return record_create(
        data_type=data_type, data=RecordData(connection=connection, status="ready", **values)
    )


@pytest.mark.parametrize(("data_type", "factory", "name_path"), PARTIES)
def test_the_same_name_in_the_mirror_is_flagged_not_refused(data_type, factory, name_path):
    connection = ConnectionFactory()
    factory(connection=connection, name="Acme Ltd", remote_id="55")
    record = _record(data_type, connection, name="ACME LTD")

    [note] = record_notes(record=record)

    assert (note.field, note.rule) == (name_path, "possibleDuplicate")
    assert "Acme Ltd (id 55)" in note.message
    assert record_validate(record=record) == []


def test_the_same_email_is_flagged_and_another_connection_s_party_is_not():
    connection, other = ConnectionFactory(), ConnectionFactory()
    CustomerFactory(connection=connection, name="Globex", email="ap@globex.example")
    CustomerFactory(connection=other, name="Initech")

    by_email = _record("customers", connection, name="Globex Corp", email="AP@globex.example")
    elsewhere = _record("customers", connection, name="Initech")

    assert [(n.field, n.rule) for n in record_notes(record=by_email)] == [
        ("emailAddress", "possibleDuplicate")
    ]
    assert record_notes(record=elsewhere) == []


def test_the_party_a_record_edits_is_not_its_own_duplicate():
    connection = ConnectionFactory()
    CustomerFactory(connection=connection, name="Acme Ltd", remote_id="55")
    record = _record("customers", connection, name="Acme Ltd")
    type(record).objects.filter(pk=record.pk).update(provider_record_id="55")
    record.refresh_from_db()

    assert record_notes(record=record) == []


def test_validate_lists_the_flag_among_its_notes(api):
    connection = ConnectionFactory()
    CustomerFactory(connection=connection, name="Acme Ltd")
    record = _record("customers", connection, name="Acme Ltd")

    answer = api.get(f"/api/v1/customer-records/{record.pk}/validate/").json()

    assert answer["valid"] is True
    assert "possibleDuplicate" in [note["rule"] for note in answer["notes"]]
