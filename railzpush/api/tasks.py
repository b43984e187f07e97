"""Background entry points of the API (django-q2)."""

from railzpush.api.services import idempotency_keys_purge


def idempotency_keys_purge_task() -> int:
    """The periodic clean-up of idempotency keys older than 24 hours; returns how many."""
    return idempotency_keys_purge()
