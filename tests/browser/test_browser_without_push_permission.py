"""Staff without pushes.push_records see an invoice's push state and history but no push
button, no push action in the list, and cannot push by posting to the URLs either."""

import pytest
from django.contrib.contenttypes.models import ContentType
from playwright.sync_api import expect

from pushes.models import Invoice, PushRequest
from tests.browser.conftest import assert_fits_the_screen, log_in, staff_user
from tests.fixtures.emulator import DEMO_XERO
from tests.fixtures.pushes import ready_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_no_push_buttons_and_pushing_by_url_is_refused(page):
    invoice = ready_invoice(connection_uuid=DEMO_XERO, number="INV-NP-1")
    failed = PushRequest.objects.create(
        content_type=ContentType.objects.get_for_model(Invoice),
        object_id=ready_invoice(connection_uuid=DEMO_XERO, number="INV-NP-2").pk,
        connection=invoice.connection,
        data_type="invoices",
        operation="create",
        state="failed",
    )
    staff_user("clerk", perms=("view_invoice", "change_invoice", "view_pushrequest"))
    log_in(page, "clerk")

    page.goto(f"/admin/pushes/invoice/{invoice.pk}/change/")
    expect(page.locator("[data-record-part=state]")).to_contain_text("Ready to push")
    expect(page.locator("[data-push-button]")).to_have_count(0)
    assert_fits_the_screen(page)

    page.goto("/admin/pushes/invoice/")
    actions = page.locator("select[name=action] option").all_inner_texts()
    assert actions and not [a for a in actions if "Push" in a]

    page.goto(f"/admin/pushes/pushrequest/{failed.pk}/change/")
    expect(page.locator("#content")).to_contain_text("failed")
    expect(page.locator(".rp-verbs button")).to_have_count(0)
    assert_fits_the_screen(page)

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    headers = {"X-CSRFToken": token}
    assert page.request.post(f"/staff/invoices/{invoice.pk}/push", headers=headers).status == 403
    assert (
        page.request.post(f"/staff/pushes/{failed.pk}/retry_pushes", headers=headers).status == 403
    )
    # The list's action, posted by hand, is not one this person has.
    page.request.post(
        "/admin/pushes/invoice/",
        form={
            "csrfmiddlewaretoken": token,
            "action": "push_records_action",
            "_selected_action": str(invoice.pk),
            "index": "0",
        },
    )
    assert list(PushRequest.objects.values_list("pk", flat=True)) == [failed.pk]
