"""bench_push really runs the pipeline end to end (server, emulator, cluster in subprocesses)
and reports its figures; a tiny run, so the command cannot rot unnoticed."""

import re
from io import StringIO

from django.core.management import call_command


def test_bench_push_pushes_every_invoice_once_and_prints_its_figures():
    out = StringIO()
    call_command("bench_push", invoices=6, connections=2, workers=1, stdout=out)
    report = out.getvalue()
    assert "final states              {'success': 6}" in report
    assert "invoices in the emulator  6 (one per invoice: True)" in report
    assert "429 answers               0" in report
    # Each invoice was sent exactly once; status came by webhook (a poll or two at most).
    assert re.search(r"Railz calls per push\s+[\d.]+ \(6 submit \+ [0-2] pushStatus", report)
    assert re.search(r"pushes per second\s+[\d.]+", report)
    assert re.search(r"DB queries per push\s+[\d.]+", report)
    assert re.search(r"CPU time\s+[\d.]+ s in all, \d+ ms per push", report)
