"""The API grants nothing the admin refuses: reading needs the view (or change) permission on the
resource's model, creating add, updating change, deleting delete, and the push verbs the view
permission besides `push_records`. Each refusal is a 403 in the API's error shape and changes
nothing; the admin refuses the same staff the same things."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from pushes.models import Invoice, InvoiceLine, PushRequest
from tests.fixtures.api import *  # noqa: F403
from tests.test_api_invoices import INVOICES, draft_body

pytestmark = pytest.mark.django_db

REFS = ("customers", "accounts", "tax-rates", "items", "tracking-options", "connections")


@pytest.fixture
def staff_with(django_user_model):
    """`staff_with("view_invoice", ...)`: a staff user holding exactly those permissions (and,
    unless said otherwise, the view permission of every reference type)."""

    def make(*codenames, refs=True, name="limited"):
        user = django_user_model.objects.create_user(name, password="pw", is_staff=True)
        perms = Permission.objects.filter(codename__in=codenames)
        assert perms.count() == len(codenames), codenames
        user.user_permissions.add(*perms)
        if refs:
            user.user_permissions.add(
                *Permission.objects.filter(
                    content_type__app_label="refs", codename__startswith="view_"
                )
            )
        return django_user_model.objects.get(pk=user.pk)

    return make


@pytest.fixture
def draft(api, api_refs):
    """A draft invoice, created by staff allowed to."""
    response = api.post(INVOICES, draft_body(api_refs), format="json")
    assert response.status_code == 201, response.json()
    return Invoice.objects.get(pk=response.json()["id"])


def _refused(response, action: str):
    assert response.status_code == 403, response.content[:300]
    [error] = response.json()["errors"]
    assert error["rule"] == "permissionDenied"
    assert error["field"] == ""
    assert action in error["message"]


def _counts():
    return Invoice.objects.count(), InvoiceLine.objects.count(), PushRequest.objects.count()


def test_view_only_staff_list_and_read_but_cannot_create_update_or_delete(
    api_as, staff_with, draft, api_refs
):
    client = api_as(staff_with("view_invoice"))
    detail = f"{INVOICES}{draft.pk}/"
    assert client.get(INVOICES).status_code == 200
    assert client.get(detail).json()["invoice_number"] == "INV-1001"
    assert client.get(f"{detail}validate/").status_code == 200
    before, memo = _counts(), draft.memo

    _refused(
        client.post(INVOICES, draft_body(api_refs, invoice_number="V-1"), format="json"),
        "add invoices",
    )
    _refused(client.patch(detail, {"memo": "changed"}, format="json"), "change invoices")
    _refused(client.put(detail, draft_body(api_refs), format="json"), "change invoices")
    _refused(client.delete(detail), "delete invoices")

    assert _counts() == before
    draft.refresh_from_db()
    assert draft.memo == memo


def test_staff_who_may_add_but_not_delete_create_and_cannot_delete(api_as, staff_with, api_refs):
    client = api_as(staff_with("view_invoice", "add_invoice"))
    created = client.post(INVOICES, draft_body(api_refs), format="json")
    assert created.status_code == 201, created.json()
    detail = f"{INVOICES}{created.json()['id']}/"

    _refused(client.delete(detail), "delete invoices")
    _refused(client.patch(detail, {"memo": "changed"}, format="json"), "change invoices")
    assert Invoice.objects.filter(pk=created.json()["id"]).exists()


def test_change_implies_view_as_in_the_admin(api_as, staff_with, draft):
    client = api_as(staff_with("change_invoice"))
    assert client.get(INVOICES).status_code == 200
    response = client.patch(f"{INVOICES}{draft.pk}/", {"memo": "changed"}, format="json")
    assert response.status_code == 200, response.json()
    draft.refresh_from_db()
    assert draft.memo == "changed"


def test_staff_without_any_model_permission_see_nothing(api_as, staff_with, draft):
    client = api_as(staff_with(refs=False))
    for url in (
        INVOICES,
        f"{INVOICES}{draft.pk}/",
        "/api/v1/pushes/",
        *(f"/api/v1/{r}/" for r in REFS),
    ):
        _refused(client.get(url), "view")


def test_reference_data_needs_the_view_permission_of_its_type(api_as, staff_with, api_refs):
    client = api_as(staff_with("view_customer", refs=False))
    assert client.get("/api/v1/customers/").status_code == 200
    _refused(client.get("/api/v1/accounts/"), "view accounts")
    _refused(client.get("/api/v1/connections/"), "view connections")
    _refused(client.post(f"/api/v1/connections/{api_refs.connection.pk}/sync/"), "view connections")


def test_pushing_needs_the_view_permission_besides_push_records(api_as, staff_with, draft):
    blind = api_as(staff_with("push_records", name="blind"))
    _refused(blind.post(f"{INVOICES}{draft.pk}/push/"), "view invoices")
    _refused(blind.get("/api/v1/pushes/"), "view push requests")

    seeing = api_as(staff_with("push_records", "view_invoice", name="seeing"))
    # Allowed through: the draft is refused by the pipeline, not by a permission.
    response = seeing.post(f"{INVOICES}{draft.pk}/push/")
    assert response.status_code in {400, 409}, response.json()
    assert response.json()["errors"][0]["rule"] != "permissionDenied"
    assert not PushRequest.objects.exists()


def test_the_admin_refuses_the_same_staff_the_same_things(client, staff_with, draft, plain_static):
    # The add form of the invoice's connection (without one, the admin first asks which).
    add = f"{reverse('admin:pushes_invoice_add')}?connection={draft.connection_id}"
    viewer = staff_with("view_invoice", name="viewer")
    client.force_login(viewer)
    assert client.get(reverse("admin:pushes_invoice_changelist")).status_code == 200
    assert client.get(add).status_code == 403
    assert client.get(reverse("admin:pushes_invoice_delete", args=[draft.pk])).status_code == 403
    deleting = client.post(reverse("admin:pushes_invoice_delete", args=[draft.pk]), {"post": "yes"})
    assert deleting.status_code == 403
    assert Invoice.objects.filter(pk=draft.pk).exists()

    adder = staff_with("view_invoice", "add_invoice", name="adder")
    client.force_login(adder)
    assert client.get(add).status_code == 200
    assert client.get(reverse("admin:pushes_invoice_delete", args=[draft.pk])).status_code == 403

    client.force_login(staff_with(refs=False, name="nobody"))
    assert client.get(reverse("admin:pushes_invoice_changelist")).status_code == 403
