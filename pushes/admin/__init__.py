"""Django admin for pushes: one module per entity, registered on import."""

from pushes.admin import invoices, push_requests  # noqa: F401
