"""The triggers that keep a bill's or a credit note's references in its own connection, as
migration 0001 does for invoices: the services refuse such a row with a sentence, the database
refuses it for every other writer."""

from importlib import import_module

from django.db import migrations

_invoices = import_module("pushes.migrations.0001_initial")

# (table of the document, its label, party column and table, line table, line's parent column,
# whether the line names a customer)
DOCUMENTS = (
    ("pushes_bill", "bill", "vendor_id", "refs_vendor", "pushes_billline", "bill_id", True),
    (
        "pushes_invoicecreditnote",
        "invoice credit note",
        "customer_id",
        "refs_customer",
        "pushes_invoicecreditnoteline",
        "credit_note_id",
        False,
    ),
    (
        "pushes_billcreditnote",
        "bill credit note",
        "vendor_id",
        "refs_vendor",
        "pushes_billcreditnoteline",
        "credit_note_id",
        False,
    ),
)


def _checks():
    differs = _invoices._differs
    for table, label, party, party_table, lines, parent, line_customer in DOCUMENTS:
        short = table.removeprefix("pushes_")
        # Built from the constants in this file only, never from input.
        own = f"(SELECT connection_id FROM {table} WHERE id = NEW.{parent})"  # noqa: S608
        line_of = (
            f"(SELECT d.connection_id FROM {table} d JOIN {lines} l ON l.{parent} = d.id"  # noqa: S608
            f" WHERE l.id = NEW.{lines.removeprefix('pushes_')}_id)"
        )
        document_of = f"(SELECT connection_id FROM {table} WHERE id = NEW.{short}_id)"  # noqa: S608
        yield (
            f"pushes_{short}_party_conn",
            table,
            None,
            differs(party_table, party, "NEW.connection_id"),
            f"{label} {party.removesuffix('_id')} belongs to another connection",
        )
        refs = [("account", "refs_account"), ("item", "refs_item"), ("tax_rate", "refs_taxrate")]
        if line_customer:
            refs.append(("customer", "refs_customer"))
        for name, ref_table in refs:
            yield (
                f"pushes_{short}_line_{name}_conn",
                lines,
                None,
                differs(ref_table, f"{name}_id", own),
                f"{label} line {name.replace('_', ' ')} belongs to another connection",
            )
        yield (
            f"pushes_{short}_line_tracking_conn",
            f"{lines}_tracking_options",
            None,
            differs("refs_trackingoption", "trackingoption_id", line_of),
            f"{label} line tracking option belongs to another connection",
        )
        yield (
            f"pushes_{short}_subsidiary_conn",
            f"{table}_subsidiaries",
            None,
            differs("refs_subsidiary", "subsidiary_id", document_of),
            f"{label} subsidiary belongs to another connection",
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
    dependencies = [("pushes", "0005_bills_and_credit_notes")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
