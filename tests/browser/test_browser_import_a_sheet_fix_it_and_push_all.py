"""A bookkeeper uploads a month's invoices as a CSV, sees the one cell that names no customer
with the closest names offered, fixes it in the file, uploads it again, creates the invoices,
pushes all the ready ones through the list's own preview, and downloads the result per row
with each invoice's push state and its id in the accounting system."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pushes.models import Invoice, PushRequest
from sheets.columns import headers_for
from tests.browser.conftest import assert_fits_the_screen, log_in, screenshot, staff_user
from tests.fixtures.emulator import DEMO_XERO
from tests.fixtures.pushes import demo_refs, refs_connection_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sheet(path, customer: str, account: str) -> str:
    headers = headers_for("invoices")
    rows = []
    for key, amount in (("IMP-1", "120.00"), ("IMP-2", "1,250.00")):
        for line in (1, 2):
            row = dict.fromkeys(headers, "")
            row.update(
                {
                    "Key": key,
                    "Line description": f"Roasting, batch {line}",
                    "Line quantity": "1",
                    "Line unit amount": amount,
                    "Line account": account,
                }
            )
            if line == 1:
                row.update(
                    {
                        "Customer": customer if key == "IMP-2" else customer.rstrip("?"),
                        "Invoice number": key,
                        "Posted date": "2025-03-03",
                        "Due date": "2025-04-02",
                    }
                )
            rows.append([row[h] for h in headers])
    out = io.StringIO()
    csv.writer(out).writerows([headers, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    return str(path)


def _upload(page, file_path: str) -> None:
    page.locator("#id_file").set_input_files(file_path)
    page.get_by_role("button", name="Upload and check").click()


def test_upload_preview_fix_reupload_confirm_push_all_and_download(
    page, push_emulator, tmp_path, monkeypatch
):
    connection = refs_connection_for(DEMO_XERO)
    refs = demo_refs(connection)
    staff_user("books", superuser=True)
    log_in(page, "books")

    page.goto("/admin/sheets/sheetimport/add/")
    page.locator("#id_connection").select_option(str(connection.pk))
    page.locator("#id_data_type").select_option("invoices")
    typo = f"{refs.party.name}?"
    _upload(page, _sheet(tmp_path / "march.csv", typo, refs.account.remote_id))

    expect(page.locator("[data-count=problem]")).to_have_text("1")
    expect(page.locator("[data-count=ready]")).to_have_text("1")
    problem = page.locator(".sheet-problems tr[data-row='4'][data-column='Customer']")
    expect(problem).to_contain_text("No customer of this business has")
    expect(problem).to_contain_text(f"Closest: {refs.party.name}")
    assert_fits_the_screen(page)
    screenshot(page, "import-preview-with-a-problem")
    assert not Invoice.objects.exists()

    # Fix the cell in the file, upload it again: the business and type stay chosen.
    page.get_by_role("link", name="Upload a corrected file").click()
    expect(page.locator("#id_connection")).to_have_value(str(connection.pk))
    _upload(page, _sheet(tmp_path / "march-fixed.csv", refs.party.name, refs.account.remote_id))
    expect(page.locator("[data-count=ready]")).to_have_text("2")
    expect(page.locator("[data-count=problem]")).to_have_text("0")

    page.get_by_role("button", name="Create 2 invoices").click()
    expect(page.locator(".messagelist")).to_contain_text("2 invoices created from the file.")
    assert Invoice.objects.filter(status="ready").count() == 2

    page.get_by_role("button", name="Push all ready (2)").click()
    expect(page.locator("#content")).to_contain_text("2 of 2 selected records will be pushed")
    page.get_by_role("button", name="Push 2 records").click()
    expect(page.locator(".messagelist")).to_contain_text("Queued 2 push(es)")

    deadline = time.monotonic() + 20
    while PushRequest.objects.filter(state="success").count() < 2:
        assert time.monotonic() < deadline, list(PushRequest.objects.values("state", "last_error"))
        time.sleep(0.2)

    page.goto("/admin/sheets/sheetimport/")
    page.locator("#result_list a", has_text="march-fixed.csv").first.click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Result per row (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["Row"], r["Key"], r["Outcome"]) for r in rows] == [
        ("2", "IMP-1", "created, ready"),
        ("3", "IMP-1", "created, ready"),
        ("4", "IMP-2", "created, ready"),
        ("5", "IMP-2", "created, ready"),
    ]
    assert {r["Push state"] for r in rows} == {"Pushed"}
    assert all(r["Provider id"] for r in rows)
