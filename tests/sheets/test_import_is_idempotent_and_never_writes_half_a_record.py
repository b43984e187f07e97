"""The same file, or the same keys, imported twice creates nothing new and says which records
exist; a write that stops halfway leaves each record whole with its key or absent, and running
it again finishes the rest."""

from __future__ import annotations

import pytest

from pushes import registry
from pushes.models import Invoice, InvoiceLine
from pushes.services import records as record_services
from sheets import services
from sheets.models import ImportedKey, SheetImport
from sheets.services import import_confirm, import_start, import_write
from tests.contract.conftest import RecordKit
from tests.sheets.conftest import csv_bytes, document, sheet_rows

pytestmark = pytest.mark.django_db

INVOICES = RecordKit(spec=registry.for_data_type("invoices").spec)


def _content(keys, **cells):
    records = [row for key in keys for row in document(INVOICES, key, lines=2, **cells)]
    return csv_bytes(*sheet_rows("invoices", records))


def _start(business, content):
    return import_start(
        connection=business, data_type="invoices", file_name="in.csv", content=content
    )


def test_the_same_file_twice_creates_nothing_new_and_names_what_exists(business, refs):
    content = _content(["A", "B"])
    import_confirm(sheet_import=_start(business, content))
    assert Invoice.objects.count() == 2

    again = _start(business, content)
    assert again.preview["counts"] == {"ready": 0, "draft": 0, "problem": 0, "exists": 2}
    records = again.preview["records"]
    assert {records["A"][1], records["B"][1]} == set(Invoice.objects.values_list("pk", flat=True))
    rows = list(services.import_result_rows(again))
    assert rows[0][2] == "already imported: nothing new"


def test_a_file_sharing_some_keys_creates_only_the_new_ones(business, refs):
    import_confirm(sheet_import=_start(business, _content(["A"])))
    second = import_confirm(sheet_import=_start(business, _content(["A", "C"])))
    assert second.preview["counts"]["exists"] == 1
    assert second.preview["created"] == 1
    assert sorted(ImportedKey.objects.values_list("key", flat=True)) == ["A", "C"]


@pytest.mark.parametrize("commit_every", [1, 100])
def test_a_write_that_dies_halfway_leaves_no_half_record_and_resumes(
    business, refs, monkeypatch, commit_every
):
    monkeypatch.setattr(services, "COMMIT_EVERY", commit_every)
    sheet_import = _start(business, _content(["A", "B", "C"]))
    real = record_services.records_create_many
    written = []

    def dies_once_the_second_record_is_written(**kwargs):
        stored = real(**kwargs)
        written.extend(stored)
        if len(written) >= 2:
            # The records of the batch and their lines are written, then the worker dies
            # before their keys are.
            raise SystemExit("worker killed")
        return stored

    monkeypatch.setattr(services, "records_create_many", dies_once_the_second_record_is_written)
    with pytest.raises(SystemExit):
        import_confirm(sheet_import=sheet_import)
    # Whole records with their keys (the batches committed before the death), nothing else.
    kept = 1 if commit_every == 1 else 0
    assert Invoice.objects.count() == kept
    assert InvoiceLine.objects.count() == 2 * kept
    assert sorted(ImportedKey.objects.values_list("record_id", flat=True)) == sorted(
        Invoice.objects.values_list("pk", flat=True)
    )

    # The task runs again (django-q2 hands a lost task to another worker).
    monkeypatch.setattr(services, "records_create_many", real)
    done = import_write(sheet_import_id=sheet_import.pk)
    assert done.state == SheetImport.State.DONE
    assert Invoice.objects.count() == 3
    assert InvoiceLine.objects.count() == 6
    assert done.preview["counts"]["exists"] == kept


def test_an_import_is_confirmed_once(business, refs):
    sheet_import = import_confirm(sheet_import=_start(business, _content(["A"])))
    with pytest.raises(services.NotConfirmable):
        import_confirm(sheet_import=sheet_import)
    assert Invoice.objects.count() == 1


def test_a_key_another_writer_takes_meanwhile_is_told_as_existing_and_not_doubled(
    business, refs, monkeypatch
):
    sheet_import = _start(business, _content(["A", "B"]))
    first = import_confirm(sheet_import=_start(business, _content(["A"])))
    (a_id,) = Invoice.objects.values_list("pk", flat=True)
    # This writer looked for existing keys before the other one wrote A: it sees none.
    monkeypatch.setattr(services, "_existing", lambda sheet_import: lambda keys: {})

    done = import_confirm(sheet_import=sheet_import)

    assert first.preview["created"] == 1
    assert done.preview["created"] == 1
    assert done.preview["records"]["A"] == ["exists", a_id]
    assert Invoice.objects.count() == 2
    assert InvoiceLine.objects.count() == 4
    assert sorted(ImportedKey.objects.values_list("key", flat=True)) == ["A", "B"]
