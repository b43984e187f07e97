"""bench_batch really pushes batchable records end to end with batching on and off, and prints
its figures side by side; a tiny run, so the command cannot rot unnoticed."""

import re
from io import StringIO

from django.core.management import call_command


def test_bench_batch_sends_one_batch_call_where_batching_is_on_and_one_call_each_where_off():
    out = StringIO()
    call_command("bench_batch", customers=5, journal_entries=5, workers=1, stdout=out)
    report = out.getvalue()
    assert re.search(r"one provider record each\s+True\s+True", report)
    assert re.search(r"final states\s+\{'success': \d+\}\s+\{'success': \d+\}", report)
    # With batching on, each type is one batch call; off, one call per record.
    batches, singles = re.search(r"batch writes\s+(\d+)\s+(\d+)", report).groups()
    assert int(batches) >= 1 and int(singles) == 0
    batched_singles, records = re.search(r"single writes\s+(\d+)\s+(\d+)", report).groups()
    assert int(batched_singles) == 0 and int(records) >= 5
    assert re.search(r"records per second\s+[\d.]+\s+[\d.]+", report)
    assert re.search(r"CPU seconds per record\s+[\d.]+\s+[\d.]+", report)
    assert "Railz calls per record" in report
