"""Customers and vendors declared once: `party_spec` makes either from its Railz name key.

Lengths come from the Railz schema (PushCustomerV2 / PushVendorV2 and their Address type)
through the declaration, never retyped; the rules the schema cannot say (a country as ISO
alpha-3, an email that looks like one, a party the mirror already holds) are named here,
beside the fields they read.
"""

from __future__ import annotations

import re
from typing import Any

from pushes.spec import DocumentSpec, Field, Kind, field_list
from pushes.spec.documents import SUBSIDIARIES
from railzpush.railz.datatypes import data_type as data_type_of

__all__ = ["party_spec"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ALPHA3 = re.compile(r"^[A-Z]{3}$")
ADDRESSES = (("billing", "billingAddress", "Billing"), ("shipping", "shippingAddress", "Shipping"))


def _address(prefix: str, path: str, label: str) -> tuple[Field, ...]:
    parts = (
        ("line1", "line1", "address line 1"),
        ("line2", "line2", "address line 2"),
        ("city", "city", "city"),
        ("region", "region", "region"),
        ("country", "country", "country"),
        ("postal_code", "postalCode", "postal code"),
    )
    return tuple(
        Field(f"{prefix}_{name}", f"{path}.{key}", f"{label} {words}", strip=True)
        for name, key, words in parts
    )


def country_is_iso_alpha3(checked: Any) -> None:
    # Railz's Address type: "Country name as 3 ISO alpha-3 characters" (CAN, USA, GBR).
    for prefix, path, label in ADDRESSES:
        country = checked.values.get(f"{prefix}_country") or ""
        if country and not _ALPHA3.match(country):
            checked.refuse(
                f"{path}.country",
                "format",
                f"{label} country must be a three-letter ISO 3166 alpha-3 code such as CAN; "
                f"got {country[:20]!r}.",
            )


def email_looks_like_one(checked: Any) -> None:
    email = checked.values.get("email") or ""
    if email and not _EMAIL.match(email):
        path = checked.spec.field_at_name("email").path
        checked.need(path, "format", f"Email {email[:60]!r} is not an email address.")


def party_possible_duplicate(checked: Any) -> None:
    """A new party named or addressed like one the mirror holds is probably that party.

    Flagged, not refused: two businesses may share a name. The note names the row, so the
    person can edit it instead of creating a second one.
    """
    name = (checked.values.get("name") or "").strip()
    email = (checked.values.get("email") or "").strip()
    if not (name or email):
        return
    from django.db.models import Q

    record = checked.record
    # The mirrored rows of the party's own kind, which its parent is chosen from.
    model = checked.spec.column(checked.spec.field_at_name("parent")).related_model
    query = Q()
    if name:
        query |= Q(name__iexact=name)
    if email:
        query |= Q(email__iexact=email)
    rows = model.objects.active().filter(query, connection=checked.connection)
    if record is not None and record.provider_record_id:
        rows = rows.exclude(remote_id=record.provider_record_id)
    found = rows.only("name", "email", "remote_id").first()
    if found is None:
        return
    same = "name" if name and found.name.lower() == name.lower() else "email"
    noun = checked.spec.label.lower()
    path = checked.spec.field_at_name("name" if same == "name" else "email").path
    checked.note(
        path,
        "possibleDuplicate",
        f"Possible duplicate: {noun} {found.name or found.remote_id} (id {found.remote_id}) "
        f"already has this {same} in {checked.connection}. Edit that {noun} instead, unless "
        "this is another one.",
    )


def party_spec(*, data_type: str, model: str, name_path: str) -> DocumentSpec:
    """The declaration of customers or vendors, which differ only by their name's key."""
    noun = data_type_of(data_type).label.lower()
    fields = field_list(
        Field(
            "name",
            name_path,
            "Name",
            strip=True,
            ready=True,
            required_message=f"Name is required: the accounting system knows a {noun} by it.",
        ),
        Field("contact_name", "contactName", "Contact name"),
        Field("email", "emailAddress", "Email", strip=True),
        Field("phone", "phone", "Phone", strip=True),
        Field("tax_number", "taxNumber", "Tax number", strip=True),
        Field("currency", "currency", "Currency", Kind.CURRENCY),
        Field("parent", "parentRef", "Parent", Kind.REF),
        SUBSIDIARIES,
        *(f for prefix, path, label in ADDRESSES for f in _address(prefix, path, label)),
    )
    names = [f.name for f in fields]
    return DocumentSpec(
        data_type=data_type,
        model=model,
        fields=fields,
        totals=False,
        script="",
        from_mirror="pushes.services.parties.party_record_from_mirror",
        # /api/v1/customers/ lists the customers mirrored from Railz; these are the ones
        # composed here to push.
        resource=f"{noun}-records",
        rules=(
            email_looks_like_one,
            country_is_iso_alpha3,
            party_possible_duplicate,
        ),
        on_pushed="pushes.types.parties.party_mirror_write",
        fieldsets=(
            (None, tuple(names[:5])),
            ("Currency and structure", ("currency", "parent", "subsidiaries")),
            ("Billing address", tuple(n for n in names if n.startswith("billing_"))),
            ("Shipping address", tuple(n for n in names if n.startswith("shipping_"))),
        ),
    )
