"""`manage.py emulator_seed` builds the demo businesses once, and re-sizes lists on request."""

from io import StringIO

import pytest
from django.core.management import call_command

from railzpush.emulator.models import EmuConnection, EmuRecord, EmuTypeCount
from tests.fixtures.emulator import DEMO_QUICKBOOKS, DEMO_XERO

pytestmark = pytest.mark.django_db


def _seed(*args) -> str:
    out = StringIO()
    call_command("emulator_seed", *args, stdout=out)
    return out.getvalue()


def _snapshot():
    return list(
        EmuRecord.objects.order_by("pk").values_list("pk", "data_type", "remote_id", "body")
    )


def test_seed_creates_the_four_demo_businesses_and_says_how_long_it_took():
    output = _seed()

    assert EmuConnection.objects.count() == 4
    assert (
        EmuTypeCount.objects.get(connection__connection_uuid=DEMO_XERO, data_type="customers").count
        == 250
    )
    assert "emulator seeded in" in output


def test_seeding_twice_changes_nothing():
    _seed()
    before = _snapshot()

    output = _seed()

    assert _snapshot() == before
    assert "nothing changed" in output


def test_sizes_re_create_only_the_lists_asked_for():
    _seed()
    vendors_before = list(
        EmuRecord.objects.filter(data_type="vendors").values_list("pk", flat=True)
    )

    _seed("--customers", "1200", "--connection", DEMO_QUICKBOOKS)

    counts = dict(
        EmuTypeCount.objects.filter(data_type="customers").values_list(
            "connection__connection_uuid", "count"
        )
    )
    assert counts[DEMO_QUICKBOOKS] == 1200
    assert counts[DEMO_XERO] == 250
    assert (
        EmuRecord.objects.filter(
            connection__connection_uuid=DEMO_QUICKBOOKS, data_type="customers"
        ).count()
        == 1200
    )
    assert list(EmuRecord.objects.filter(data_type="vendors").values_list("pk", flat=True)) == (
        vendors_before
    )


def test_sizes_apply_to_vendors_and_items_too():
    _seed("--vendors", "7", "--items", "9")

    for data_type, expected in (("vendors", 7), ("inventory", 9)):
        counts = set(
            EmuTypeCount.objects.filter(data_type=data_type).values_list("count", flat=True)
        )
        # The disconnected business's provider may not offer every type.
        assert counts <= {expected, 0} and expected in counts


def test_reset_re_creates_everything():
    _seed()
    EmuRecord.objects.filter(data_type="customers").delete()

    _seed("--reset")

    assert EmuRecord.objects.filter(data_type="customers").count() == 4 * 250
