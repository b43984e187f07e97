"""Four eyes in the browser: a preparer submits an invoice for approval instead of pushing it,
another person approves it from the queue and it is pushed; a rejection's comment reaches the
preparer on the invoice's page."""

import pytest
from playwright.sync_api import expect

from pushes.models import ApprovalPolicy, PushRequest
from tests.browser.conftest import VIEWPORT, assert_fits_the_screen, log_in, staff_user
from tests.fixtures.emulator import DEMO_QUICKBOOKS
from tests.fixtures.pushes import ready_invoice, refs_connection_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PREPARER = ("push_records", "view_invoice", "change_invoice", "view_pushrequest")
APPROVER = ("approve_pushes", "view_approvalrequest", "view_invoice", "view_pushrequest")


@pytest.fixture
def submitted(page, chromium, browser_app):
    """An invoice under an "every push" policy, submitted for approval from its page."""
    ApprovalPolicy.objects.create(connection=refs_connection_for(DEMO_QUICKBOOKS), rule="every")
    invoice = ready_invoice(connection_uuid=DEMO_QUICKBOOKS, number="INV-BR-APP")
    staff_user("preparer", perms=PREPARER)
    staff_user("approver", perms=APPROVER)
    log_in(page, "preparer")
    page.goto(f"/admin/pushes/invoice/{invoice.pk}/change/")
    page.locator("[data-submit-approval]").click()
    expect(page.locator(".rp-confirm__form")).to_contain_text("needs an approval")
    page.locator("[data-push-confirm]").click()
    page.wait_for_url(f"**/admin/pushes/invoice/{invoice.pk}/change/")
    expect(page.locator("[data-approvals]")).to_contain_text("Submitted for approval")
    assert not PushRequest.objects.exists()
    context = chromium.new_context(viewport=VIEWPORT, base_url=browser_app.url)
    approver_page = context.new_page()
    log_in(approver_page, "approver")
    approver_page.goto("/admin/pushes/approvalrequest/")
    approver_page.get_by_role("link", name="Invoice INV-BR-APP", exact=False).first.click()
    expect(approver_page.locator(".rp-approval-body")).to_contain_text("INV-BR-APP")
    assert_fits_the_screen(approver_page)
    yield invoice, approver_page
    context.close()


def test_submit_then_another_person_approves_and_it_is_pushed(page, submitted):
    _invoice, approver_page = submitted
    approver_page.locator("#rp-decision-comment").fill("Checked against the contract")
    approver_page.locator("[data-approve]").click()
    expect(approver_page.locator(".messagelist")).to_contain_text("Approved: push")
    page.reload()
    expect(page.locator("[data-record-part=state]")).to_contain_text("Pushed", timeout=30_000)
    push = PushRequest.objects.get()
    assert push.state == "success" and push.requested_by.username == "preparer"
    expect(page.locator("[data-approvals]")).to_contain_text("Approved by approver")


def test_a_rejection_and_its_comment_reach_the_preparer(page, submitted):
    _invoice, approver_page = submitted
    approver_page.locator("#rp-decision-comment").fill("Wrong customer: bill Acme instead")
    approver_page.locator("[data-reject]").click()
    expect(approver_page.locator(".messagelist")).to_contain_text("Rejected")
    page.reload()
    expect(page.locator("[data-approval-comment]")).to_contain_text(
        "Wrong customer: bill Acme instead"
    )
    expect(page.locator("[data-submit-approval]")).to_be_visible()
    assert not PushRequest.objects.exists()
