"""Journal entries (Railz `PushJournalEntriesV2`): what each field is and where it goes."""

from __future__ import annotations

from pushes.spec import DocumentSpec, Field, Kind, field_list
from pushes.spec.documents import CURRENCY, CURRENCY_RATE, MEMO, POSTED_DATE, SUBSIDIARIES
from pushes.types.journal_entries.rules import (
    debits_equal_credits,
    line_is_a_debit_or_a_credit,
    line_names_one_entity,
)

SPEC = DocumentSpec(
    data_type="journalEntries",
    model="pushes.JournalEntry",
    line_model="pushes.JournalEntryLine",
    fields=field_list(
        Field("journal_number", "journalNumber", "Journal number", strip=True),
        POSTED_DATE,
        CURRENCY,
        CURRENCY_RATE,
        MEMO,
        SUBSIDIARIES,
    ),
    line_fields=(
        Field("description", "description", "description"),
        Field("account", "accountRef", "account", Kind.REF, ready=True),
        Field("debit", "debit", "debit", Kind.DECIMAL, strip=True),
        Field("credit", "credit", "credit", Kind.DECIMAL, strip=True),
        # entityRef: a customer or a vendor, sent with its type.
        Field("customer", "entityRef", "customer", Kind.REF, ref_type="customer"),
        Field("vendor", "entityRef", "vendor", Kind.REF, ref_type="vendor"),
        Field("tax_rate", "taxRateRef", "tax rate", Kind.REF),
        Field("tracking_options", "trackingCategoryRefs", "tracking option", Kind.TRACKING),
    ),
    line_rules=(line_is_a_debit_or_a_credit, line_names_one_entity),
    lines_rules=(debits_equal_credits,),
    totals=False,
    script="pushes/journal_balance.js",
)
