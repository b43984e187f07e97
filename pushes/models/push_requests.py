"""push_requests models."""
__all__: list[str] = []
