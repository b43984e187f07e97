"""Records staff compose (invoices, later bills and the rest) and the pushes that send them.

One module per entity; this package re-exports every model so Django and callers see one
`pushes.models`.
"""

from pushes.models.base import *  # noqa: F403
from pushes.models.invoices import *  # noqa: F403
from pushes.models.push_options import *  # noqa: F403
from pushes.models.push_requests import *  # noqa: F403
from pushes.types.bill_credit_notes.models import *  # noqa: F403
from pushes.types.bills.models import *  # noqa: F403
from pushes.types.invoice_credit_notes.models import *  # noqa: F403
