"""Vendors staff create or change in the accounting system (Railz `PushVendorV2`)."""

from __future__ import annotations

from django.db import models

from pushes.types.parties import PartyRecord, party_parent

__all__ = ["VendorRecord"]


class VendorRecord(PartyRecord):
    """A vendor to push; `parent` is its parent vendor."""

    parent = party_parent("refs.Vendor")

    class Meta(PartyRecord.Meta):
        verbose_name = "vendor"
        # The list's default order (newest first): a page is a range, never a sort.
        indexes = [models.Index(fields=["-created_at", "-id"], name="pushes_vendorrec_recent")]
