"""Records staff compose (invoices, later bills and the rest) and the pushes that send them.

One module per entity; this package re-exports every model so Django and callers see one
`pushes.models`. The record types' own models live in their folders (`pushes.types.<type>`)
with the abstract contract they inherit (`pushes.types.base`): this package imports them and
they never import it back, so the models and the types load one way.
"""

from pushes.models.alerts import *  # noqa: F403
from pushes.models.approvals import *  # noqa: F403
from pushes.models.connection_pauses import *  # noqa: F403
from pushes.models.invoices import *  # noqa: F403
from pushes.models.push_options import *  # noqa: F403
from pushes.models.push_requests import *  # noqa: F403
from pushes.types.base import *  # noqa: F403
from pushes.types.bill_credit_notes.models import *  # noqa: F403
from pushes.types.bills.models import *  # noqa: F403
from pushes.types.customers.models import *  # noqa: F403
from pushes.types.invoice_credit_notes.models import *  # noqa: F403
from pushes.types.journal_entries.models import *  # noqa: F403
from pushes.types.vendors.models import *  # noqa: F403
