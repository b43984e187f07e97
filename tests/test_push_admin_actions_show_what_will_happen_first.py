"""Every bulk action on the push list first shows, push by push, what it will do or why it will
skip it, and changes nothing; confirming runs it and reports what it did and skipped. The page
and the action take their answer from the same plan. Staff without pushes.push_records reach
neither the page nor the action."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from pushes.models import Invoice, PushEvent, PushRequest
from pushes.services.push_requests import push_request_create, push_request_submit
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import *  # noqa: F403
from tests.fixtures.pushes import FakePushClient, ready_invoice, status_item

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("push_plain_static")]

CHANGELIST = "admin:pushes_pushrequest_changelist"
ROW = re.compile(
    r'<tr data-outcome="(?P<outcome>[^"]+)">\s*'
    r'<td><a href="/admin/pushes/pushrequest/(?P<pk>\d+)/change/">[^<]*</a></td>\s*'
    r"<td>(?:<strong>)?[^<]*(?:</strong>)?</td>\s*"
    r"<td>(?P<reason>[^<]*)</td>"
)


def _user(django_user_model, name, *codenames):
    user = django_user_model.objects.create_user(name, password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def pusher(django_user_model):
    return _user(django_user_model, "pusher3", "view_pushrequest", "push_records")


@pytest.fixture
def viewer(django_user_model):
    return _user(django_user_model, "viewer3", "view_pushrequest")


@pytest.fixture
def pushes(pusher):
    """One push in each state a staff action cares about, each of its own invoice."""

    def push(number):
        invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number=number)
        return push_request_create(record=invoice, user=pusher)

    queued = push("INV-PV-1")
    pending = push("INV-PV-2")
    push_request_submit(push_request_id=pending.pk, client=FakePushClient())
    failed = push("INV-PV-3")
    unknown = push("INV-PV-4")
    PushRequest.objects.filter(pk=failed.pk).update(state="failed")
    PushRequest.objects.filter(pk=unknown.pk).update(state="unknown")
    return {
        name: PushRequest.objects.get(pk=p.pk)
        for name, p in (
            ("queued", queued),
            ("pending", pending),
            ("failed", failed),
            ("unknown", unknown),
        )
    }


def _snapshot():
    return (
        sorted(PushRequest.objects.values_list("pk", "state", "updated_at")),
        PushEvent.objects.count(),
    )


def _choose(client, action, pushes, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [p.pk for p in pushes], **extra},
    )


def _rows(response) -> dict[int, tuple[str, str]]:
    html = response.content.decode()
    return {int(m["pk"]): (m["outcome"], m["reason"]) for m in ROW.finditer(html)}


@pytest.mark.parametrize(
    ("action", "allowed", "done", "skip_reason"),
    [
        ("retry_pushes", "failed", "retried", "still pending; it cannot be retried"),
        ("refresh_status", "pending", "asked about", "is failed, not pending"),
        ("reconcile_pushes", "unknown", "reconciled", "only unknown pushes are reconciled"),
        ("cancel_queued", "queued", "cancelled", "only queued pushes can be cancelled"),
        ("mark_never_received", "unknown", "marked as never received", "can be marked"),
    ],
)
def test_the_first_post_only_shows_each_push_s_outcome(
    client, pusher, pushes, action, allowed, done, skip_reason
):
    client.force_login(pusher)
    before = _snapshot()

    page = _choose(client, action, pushes.values())

    assert page.status_code == 200
    assert _snapshot() == before  # nothing happened
    rows = _rows(page)
    assert set(rows) == {p.pk for p in pushes.values()}
    for name, push in pushes.items():
        outcome, reason = rows[push.pk]
        if name == allowed:
            assert outcome == done, (name, reason)
        else:
            assert outcome == "skipped", (name, reason)
            assert reason.startswith("Push #") and f"#{push.pk} is" in reason
    html = page.content.decode()
    skipped_push = pushes["pending" if allowed != "pending" else "failed"]
    assert skip_reason in rows[skipped_push.pk][1]
    assert f"1 of 4 selected pushes will be {done}; 3 will be skipped." in html
    # Confirming posts the same action and selection back; going back is a plain link.
    assert 'name="confirm" value="yes"' in html and f'value="{action}"' in html
    assert f'href="{reverse(CHANGELIST)}" class="button cancel-link"' in html
    assert client.get(reverse(CHANGELIST)).status_code == 200
    assert _snapshot() == before


def test_the_retry_preview_names_the_new_attempt_and_confirming_runs_it(client, pusher, pushes):
    client.force_login(pusher)
    failed = pushes["failed"]
    selection = [failed, pushes["pending"]]

    outcome, reason = _rows(_choose(client, "retry_pushes", selection))[failed.pk]
    assert outcome == "retried"
    assert reason.startswith(f"A new attempt of push #{failed.pk}: Invoice INV-PV-3 ")
    assert reason.endswith(" will be created in quickbooks.")

    done = _choose(client, "retry_pushes", selection, confirm="yes")
    assert done.status_code == 302
    retry = PushRequest.objects.get(retry_of=failed)
    assert retry.state == "queued"
    texts = [str(m) for m in client.get(reverse(CHANGELIST)).context["messages"]]
    assert "Retried: 1." in texts
    assert any("Skipped 1:" in t and "still pending" in t for t in texts)


def test_the_preview_and_the_action_skip_for_the_same_reason(client, pusher, pushes):
    """A rule of the record, not of the push: an invoice back in draft is not pushed again."""
    failed = pushes["failed"]
    Invoice.objects.filter(pk=failed.object_id).update(status="draft")
    client.force_login(pusher)

    outcome, reason = _rows(_choose(client, "retry_pushes", [failed]))[failed.pk]
    assert outcome == "skipped" and "still a draft" in reason
    assert "disabled" in _choose(client, "retry_pushes", [failed]).content.decode()

    _choose(client, "retry_pushes", [failed], confirm="yes")
    texts = [str(m) for m in client.get(reverse(CHANGELIST)).context["messages"]]
    assert "Retried: none." in texts and f"Skipped 1: {reason}" in texts
    assert not PushRequest.objects.filter(retry_of=failed).exists()


def test_confirmed_cancel_and_mark_report_done_and_skipped(client, pusher, pushes):
    client.force_login(pusher)
    everything = list(pushes.values())

    _choose(client, "cancel_queued", everything, confirm="yes")
    _choose(client, "mark_never_received", everything, confirm="yes")

    states = dict(PushRequest.objects.values_list("pk", "state"))
    assert states[pushes["queued"].pk] == "cancelled"
    assert states[pushes["unknown"].pk] == "failed"
    assert states[pushes["pending"].pk] == "pending"  # never marked: it is not unknown
    texts = [str(m) for m in client.get(reverse(CHANGELIST)).context["messages"]]
    assert "Cancelled: 1." in texts
    assert "Marked as never received (can be retried now): 1." in texts
    assert sum(t.startswith("Skipped 3:") for t in texts) == 2


def test_without_the_permission_there_is_no_preview_and_nothing_runs(client, viewer, pushes):
    client.force_login(viewer)
    before = _snapshot()
    for action in ("retry_pushes", "cancel_queued", "mark_never_received"):
        page = _choose(client, action, pushes.values())
        assert 'name="confirm"' not in page.content.decode()
        _choose(client, action, pushes.values(), confirm="yes")
    assert _snapshot() == before


def test_confirmed_refresh_and_reconcile_ask_railz_once_per_connection(
    client, pusher, pushes, monkeypatch
):
    railz = FakePushClient()
    pending = pushes["pending"]
    railz.statuses[DEMO_QUICKBOOKS] = [status_item(pending, "success")]
    monkeypatch.setattr("pushes.services.push_requests.get_client", lambda **kwargs: railz)
    client.force_login(pusher)
    everything = list(pushes.values())

    _choose(client, "refresh_status", everything, confirm="yes")
    _choose(client, "reconcile_pushes", everything, confirm="yes")

    assert [call[0] for call in railz.calls] == ["push_status", "push_status"]
    assert PushRequest.objects.get(pk=pending.pk).state == "success"
    unknown = PushRequest.objects.get(pk=pushes["unknown"].pk)
    assert unknown.state == "unknown" and "probably never arrived" in unknown.reconcile_note
    texts = [str(m) for m in client.get(reverse(CHANGELIST)).context["messages"]]
    assert "Asked Railz about 1 pending push(es) in 1 call(s); outcome known now: 1." in texts
    assert "Reconciled: none." in texts
    assert any(t.startswith("Skipped 4:") and "probably never arrived" in t for t in texts)
