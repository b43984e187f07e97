"""The REST API under /api/v1/: tokens, idempotency keys and the DRF plumbing every view shares."""
