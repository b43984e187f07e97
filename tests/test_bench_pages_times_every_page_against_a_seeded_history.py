"""bench_pages seeds its history (pushes doubled by INSERT ... SELECT, with running totals
that match them), asks every staff page and API list and receives a webhook, each answering
200 with the same queries; a tiny run, so the command cannot rot unnoticed."""

import re
from io import StringIO

from django.core.management import call_command


def test_bench_pages_answers_every_page_and_prints_time_and_queries():
    out = StringIO()
    call_command("bench_pages", scale=0.0003, runs=1, stdout=out)
    report = out.getvalue()
    assert re.search(r"bench_pages: 300 push requests, 30 invoices, 30 customers", report)
    rows = re.findall(r"^  (.+?)\s+(\d+)\s+(\d+)\s+(\d+)$", report, flags=re.MULTILINE)
    pages = {name.strip(): (int(queries), int(status)) for name, _, queries, status in rows}
    for name in (
        "dashboard (admin home)",
        "dashboard refresh",
        "invoices list",
        "invoices composer",
        "a push's page",
        "push list",
        "push list, one year",
        "API /api/v1/pushes/",
        "API /api/v1/customers/",
        "webhook receipt (push not known yet)",
    ):
        assert pages[name][1] == 200, (name, report)
    assert all(status == 200 for _, status in pages.values()), report
