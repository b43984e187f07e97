"""Customers and vendors railzpush creates or changes in the accounting system: one shape.

Railz's PushCustomerV2 and PushVendorV2 share every field but their name's key (`customerName`,
`vendorName`) and who their parent may be, so both types inherit `PartyRecord` and are declared
by `pushes.spec.parties.party_spec`. What they add over an invoice is that they are also
reference data: once a push of one succeeds it enters the refs mirror at once
(`party_mirror_write`), so every composer can choose it without waiting for a sync.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from pushes.types.base import PushableRecord
from railzpush.railz.datatypes import ADDRESS, CUSTOMER

__all__ = ["PartyRecord", "party_mirror_write", "party_parent"]


def _limit(schema, key: str, default: int = 255) -> int:
    return schema.fields[key].max_length or default


def _address_columns() -> tuple[models.CharField, ...]:
    """line1, line2, city, region, country and postal code of one address."""
    return (
        models.CharField("address line 1", max_length=_limit(ADDRESS, "line1"), blank=True),
        models.CharField("address line 2", max_length=_limit(ADDRESS, "line2"), blank=True),
        models.CharField("city", max_length=_limit(ADDRESS, "city"), blank=True),
        models.CharField("region", max_length=_limit(ADDRESS, "region"), blank=True),
        models.CharField(
            "country", max_length=3, blank=True, help_text="ISO 3166 alpha-3 code, e.g. CAN."
        ),
        models.CharField("postal code", max_length=_limit(ADDRESS, "postalCode"), blank=True),
    )


def party_parent(mirrored: str) -> models.ForeignKey:
    """The party's parent (Railz parentRef): a mirrored row of its own kind."""
    return models.ForeignKey(
        mirrored, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )


class PartyRecord(PushableRecord):
    """A customer or vendor to create (or, with a provider id, change) in the accounting system.

    Column lengths are Railz's own (PushCustomerV2 / PushVendorV2, BillingAddressDto); the
    concrete type adds its `parent`.
    """

    name = models.CharField(max_length=_limit(CUSTOMER, "customerName"), blank=True)
    contact_name = models.CharField("contact name", max_length=500, blank=True)
    email = models.CharField(max_length=_limit(CUSTOMER, "emailAddress"), blank=True)
    phone = models.CharField(max_length=_limit(CUSTOMER, "phone"), blank=True)
    tax_number = models.CharField("tax number", max_length=255, blank=True)
    currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217 code, e.g. CAD.")
    subsidiaries = models.ManyToManyField("refs.Subsidiary", blank=True, related_name="+")

    # BillingAddressDto and ShippingAddressDto, one column a key.
    billing_line1, billing_line2, billing_city, billing_region = _address_columns()[:4]
    billing_country, billing_postal_code = _address_columns()[4:]
    shipping_line1, shipping_line2, shipping_city, shipping_region = _address_columns()[:4]
    shipping_country, shipping_postal_code = _address_columns()[4:]

    number_field = "name"

    class Meta(PushableRecord.Meta):
        abstract = True

    def __str__(self) -> str:
        label = self._meta.verbose_name
        return self.name or (f"{label.capitalize()} #{self.pk}" if self.pk else f"New {label}")


def _mirror_model(record: PartyRecord) -> type[models.Model]:
    # The record's parent points at the mirrored rows of its own kind.
    return record._meta.get_field("parent").related_model


def _address(record: PartyRecord, prefix: str) -> dict[str, str]:
    keys = ("line1", "line2", "city", "region", "country", "postal_code")
    values = {key: getattr(record, f"{prefix}_{key}") for key in keys}
    values["postalCode"] = values.pop("postal_code")
    return {key: value for key, value in values.items() if value}


def party_mirror_write(record: PartyRecord) -> None:
    """Put the pushed party in the refs mirror now, as a sync would once Railz has it.

    A created party is added, a changed one shows its new values. The row's content hash is
    left blank, so the next sync rewrites it with what the accounting system holds.
    """
    if not record.provider_record_id:
        return
    model = _mirror_model(record)
    raw: dict[str, Any] = {"id": record.provider_record_id}
    for key, prefix in (("billingAddress", "billing"), ("shippingAddress", "shipping")):
        address = _address(record, prefix)
        if address:
            raw[key] = address
    values = {
        "name": record.name,
        "contact_name": record.contact_name,
        "email": record.email,
        "phone": record.phone[:100],
        "currency": record.currency,
        "parent_id": record.parent_id,
        "parent_remote_id": record.parent.remote_id if record.parent_id else "",
        "status": "active",
        "archived_at": None,
        "raw": raw,
        "content_hash": "",
        "synced_at": timezone.now(),
    }
    model.objects.update_or_create(
        connection_id=record.connection_id,
        remote_id=record.provider_record_id,
        defaults=values,
    )
