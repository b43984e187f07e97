"""bench_push really runs the pipeline end to end (app, emulator and cluster in their own
processes) beside the naive post-then-poll script, and reports its figures; a tiny run, so the
command cannot rot unnoticed."""

import re
from io import StringIO

from django.core.management import call_command


def _row(report: str, label: str) -> list[str]:
    line = next(line for line in report.splitlines() if line.strip().startswith(label))
    return line.strip()[len(label) :].split()


def test_bench_push_pushes_every_invoice_once_beside_the_naive_script():
    out = StringIO()
    call_command("bench_push", invoices=6, connections=2, workers=1, stdout=out)
    report = out.getvalue()
    assert "final states (railzpush)        {'success': 6}" in report
    assert "final states (naive)" in report
    assert _row(report, "invoices in the emulator") == ["6", "6"]
    assert _row(report, "one per invoice") == ["True", "True"]
    assert _row(report, "429 answers") == ["0", "0"]
    # Each invoice was sent exactly once; its status came by webhook (a poll or two at most),
    # and every webhook was applied without an error answer before the count stopped.
    submits, naive_submits = _row(report, "submits")
    assert submits == naive_submits == "6"
    assert int(_row(report, "status polls")[0]) <= 2
    assert _row(report, "webhooks received")[0] == "6"
    assert _row(report, "webhooks answered non-2xx")[0] == "0"
    # The emulator's CPU and queries are reported apart from the app's.
    for label in (
        "CPU per push, ms (app)",
        "emulator CPU per push, ms (apart)",
        "DB queries per push",
    ):
        assert all(re.fullmatch(r"[\d.]+", value) for value in _row(report, label))
