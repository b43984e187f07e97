"""The triggers that keep a payment's customer or vendor, bank account and documents in its own
connection, as 0001 and 0006 do for the documents: the services refuse such a row with a
sentence, the database refuses it for every other writer."""

from importlib import import_module

from django.db import migrations

_invoices = import_module("pushes.migrations.0001_initial")

# (table of the payment, its label, party column and table, line table, document table)
PAYMENTS = (
    (
        "pushes_invoicepayment",
        "invoice payment",
        "customer_id",
        "refs_customer",
        "pushes_invoicepaymentline",
        "refs_openinvoice",
    ),
    (
        "pushes_billpayment",
        "bill payment",
        "vendor_id",
        "refs_vendor",
        "pushes_billpaymentline",
        "refs_openbill",
    ),
)


def _checks():
    differs = _invoices._differs
    for table, label, party, party_table, lines, documents in PAYMENTS:
        short = table.removeprefix("pushes_")
        # Built from the constants in this file only, never from input.
        own = f"(SELECT connection_id FROM {table} WHERE id = NEW.payment_id)"  # noqa: S608
        yield (
            f"pushes_{short}_party_conn",
            table,
            None,
            differs(party_table, party, "NEW.connection_id"),
            f"{label} {party.removesuffix('_id')} belongs to another connection",
        )
        yield (
            f"pushes_{short}_account_conn",
            table,
            None,
            differs("refs_account", "account_id", "NEW.connection_id"),
            f"{label} bank account belongs to another connection",
        )
        yield (
            f"pushes_{short}_line_document_conn",
            lines,
            None,
            differs(documents, "document_id", own),
            f"{label} line document belongs to another connection",
        )


CHECKS = list(_checks())


def create_triggers(apps, schema_editor):
    build = {"sqlite": _invoices._sqlite, "postgresql": _invoices._postgresql}.get(
        schema_editor.connection.vendor
    )
    if build is None:
        raise NotImplementedError(
            f"no same-connection triggers for {schema_editor.connection.vendor}"
        )
    for check in CHECKS:
        for statement in build(*check):
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name, table, _column, _condition, _message in CHECKS:
        if vendor == "sqlite":
            for suffix in ("insert", "update"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{suffix}")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")


class Migration(migrations.Migration):
    dependencies = [("pushes", "0017_payments")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
