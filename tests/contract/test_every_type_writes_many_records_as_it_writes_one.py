"""Writing many records at once (an import's confirmation) stores each exactly as writing it
alone does: the same fields, lines, references and body hash, in a few statements per batch
rather than a score per record, and nothing at all when one of them is refused."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from pushes.payloads import payload_hash, record_build_payload
from pushes.record_checks import record_check
from pushes.services.records import RecordInvalid, record_create, records_create_many
from pushes.spec import Kind
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def _stored(record, spec) -> dict:
    """What was stored of a record, read back afresh: its body, its hash, its lines' rows."""
    fresh = spec.model_class.objects.get(pk=record.pk)
    body = record_build_payload(fresh)
    many = {
        f.name: sorted(r.pk for r in getattr(fresh, f.name).all())
        for f in spec.fields
        if f.kind in (Kind.REFS, Kind.TRACKING)
    }
    return {
        "body": body,
        "hash": fresh.payload_hash,
        "hash_of_body": payload_hash(body),
        "status": fresh.status,
        "many": many,
        "lines": fresh.lines.count() if spec.has_lines else 0,
    }


def test_many_records_are_stored_as_one_is(record_type, admin_user):
    spec = record_type.spec
    business = ConnectionFactory(service_name="quickbooks")
    alone = record_create(
        data_type=spec.data_type,
        data=record_type.data(connection=business, number="ONE", full=True),
        user=admin_user,
    )
    datas = [record_type.data(connection=business, number=f"MANY-{n}", full=True) for n in range(3)]
    datas[1].status = "draft"
    checks = [record_check(spec, data, record=None) for data in datas]
    with CaptureQueriesContext(db) as queries:
        written = records_create_many(spec=spec, checks=checks, user=admin_user)
    # Records, their lines and each many-to-many table: one statement each, whatever the count.
    assert len(queries) <= 8, [q["sql"][:80] for q in queries]

    expected = _stored(alone, spec)
    for record, data in zip(written, datas, strict=True):
        got = _stored(record, spec)
        assert got["hash"] == got["hash_of_body"]
        assert got["status"] == data.status
        assert got["lines"] == expected["lines"]
        assert {k: len(v) for k, v in got["many"].items()} == {
            k: len(v) for k, v in expected["many"].items()
        }
        assert record.created_by == admin_user
        # Another record's references (its own factory rows), same shape of body.
        assert set(got["body"]) == set(expected["body"])


def test_one_refused_record_writes_none_of_the_batch(record_type):
    spec = record_type.spec
    business = ConnectionFactory(service_name="quickbooks")
    good = record_type.data(connection=business, number="GOOD")
    bad = record_type.data(connection=business, number="BAD")
    bad.status = "sent"  # never stored
    checks = [record_check(spec, data, record=None) for data in (good, bad)]
    with pytest.raises(RecordInvalid) as refused:
        records_create_many(spec=spec, checks=checks)
    assert [(p.field, p.rule) for p in refused.value.problems] == [("status", "enum")]
    assert not spec.model_class.objects.exists()
