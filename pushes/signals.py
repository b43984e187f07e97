"""What the push pipeline tells the record types, so a type reacts without the pipeline
knowing it (a payment waiting for its invoice, a mirrored document's amount due).

Both are sent inside the transaction that writes the change, so a receiver's writes commit or
roll back with it.
"""

from django.dispatch import Signal

# A push was written as queued. Args: push (PushRequest), record. A receiver may raise
# PushRefused: the push is then not written at all.
push_queued = Signal()

# A push reached success, failed, rejected or cancelled. Args: push (PushRequest).
push_settled = Signal()
