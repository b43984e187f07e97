"""Customers (Railz `PushCustomerV2`): declared with vendors by `party_spec`."""

from __future__ import annotations

from pushes.spec.parties import party_spec

SPEC = party_spec(data_type="customers", model="pushes.CustomerRecord", name_path="customerName")
