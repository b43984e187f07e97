"""invoices models."""
__all__: list[str] = []
