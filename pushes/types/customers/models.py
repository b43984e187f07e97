"""Customers staff create or change in the accounting system (Railz `PushCustomerV2`)."""

from __future__ import annotations

from django.db import models

from pushes.types.parties import PartyRecord, party_parent

__all__ = ["CustomerRecord"]


class CustomerRecord(PartyRecord):
    """A customer to push; `parent` makes it a sub-customer."""

    parent = party_parent("refs.Customer")

    class Meta(PartyRecord.Meta):
        verbose_name = "customer"
        # The list's default order (newest first): a page is a range, never a sort.
        indexes = [models.Index(fields=["-created_at", "-id"], name="pushes_customerrec_recent")]
