"""Vendors (Railz `PushVendorV2`): declared with customers by `party_spec`."""

from __future__ import annotations

from pushes.spec.parties import party_spec

SPEC = party_spec(data_type="vendors", model="pushes.VendorRecord", name_path="vendorName")
