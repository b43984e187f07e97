"""What the push pipeline tells the record types, so a type reacts without the pipeline
knowing it (a payment waiting for its invoice, a mirrored document's amount due).

Both are sent inside the transaction that writes the change, so a receiver's writes commit or
roll back with it.
"""

from django.dispatch import Signal

# Pushes were written as queued, one or a bulk push's batch at once. Args: queued, a list of
# (PushRequest, record). A receiver may raise PushRefused: then none of them is written (a
# bulk push falls back to one record at a time, so only that record is refused).
pushes_queued = Signal()

# A push reached success, failed, rejected or cancelled. Args: push (PushRequest).
push_settled = Signal()
