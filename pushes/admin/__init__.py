"""Django admin for pushes: the record types' composers and the pushes, registered on import."""

from pushes.admin import approvals, push_requests, records  # noqa: F401
