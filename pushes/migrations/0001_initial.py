"""Invoices, their lines, cached push options, and the triggers that keep references in the
invoice's own connection.

A reference from another connection would be pushed as an id that does not exist in that
accounting system (or worse, names a different record there). The services refuse it with a
sentence; these triggers refuse it for every other writer (raw ORM, shell, a future bulk job).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INVOICE_CONNECTION = "(SELECT connection_id FROM pushes_invoice WHERE id = NEW.invoice_id)"
LINE_CONNECTION = (
    "(SELECT i.connection_id FROM pushes_invoice i JOIN pushes_invoiceline l"
    " ON l.invoice_id = i.id WHERE l.id = NEW.invoiceline_id)"
)


def _differs(ref_table, column, connection):
    # Built from the constants in this file only, never from input.
    return (
        f"NEW.{column} IS NOT NULL AND "  # noqa: S608
        f"(SELECT connection_id FROM {ref_table} WHERE id = NEW.{column}) <> {connection}"
    )


# (trigger name, table, on update only if this column changed, condition, message)
CHECKS = [
    (
        "pushes_invoice_customer_conn",
        "pushes_invoice",
        None,
        _differs("refs_customer", "customer_id", "NEW.connection_id"),
        "invoice customer belongs to another connection",
    ),
    (
        "pushes_invoice_moved_conn",
        "pushes_invoice",
        "connection_id",
        "NEW.connection_id <> OLD.connection_id AND ("
        "EXISTS (SELECT 1 FROM pushes_invoiceline l"
        " LEFT JOIN refs_account a ON a.id = l.account_id"
        " LEFT JOIN refs_item it ON it.id = l.item_id"
        " LEFT JOIN refs_taxrate t ON t.id = l.tax_rate_id"
        " WHERE l.invoice_id = NEW.id AND (a.connection_id <> NEW.connection_id"
        " OR it.connection_id <> NEW.connection_id OR t.connection_id <> NEW.connection_id))"
        " OR EXISTS (SELECT 1 FROM pushes_invoice_subsidiaries s"
        " JOIN refs_subsidiary r ON r.id = s.subsidiary_id"
        " WHERE s.invoice_id = NEW.id AND r.connection_id <> NEW.connection_id)"
        " OR EXISTS (SELECT 1 FROM pushes_invoiceline_tracking_options x"
        " JOIN pushes_invoiceline l ON l.id = x.invoiceline_id"
        " JOIN refs_trackingoption o ON o.id = x.trackingoption_id"
        " WHERE l.invoice_id = NEW.id AND o.connection_id <> NEW.connection_id))",
        "invoice connection cannot change while its lines or subsidiaries use the old one",
    ),
    (
        "pushes_line_account_conn",
        "pushes_invoiceline",
        None,
        _differs("refs_account", "account_id", INVOICE_CONNECTION),
        "invoice line account belongs to another connection",
    ),
    (
        "pushes_line_item_conn",
        "pushes_invoiceline",
        None,
        _differs("refs_item", "item_id", INVOICE_CONNECTION),
        "invoice line item belongs to another connection",
    ),
    (
        "pushes_line_taxrate_conn",
        "pushes_invoiceline",
        None,
        _differs("refs_taxrate", "tax_rate_id", INVOICE_CONNECTION),
        "invoice line tax rate belongs to another connection",
    ),
    (
        "pushes_line_tracking_conn",
        "pushes_invoiceline_tracking_options",
        None,
        _differs("refs_trackingoption", "trackingoption_id", LINE_CONNECTION),
        "invoice line tracking option belongs to another connection",
    ),
    (
        "pushes_invoice_subsidiary_conn",
        "pushes_invoice_subsidiaries",
        None,
        _differs("refs_subsidiary", "subsidiary_id", INVOICE_CONNECTION),
        "invoice subsidiary belongs to another connection",
    ),
]


def _sqlite(name, table, column, condition, message):
    events = (
        [("update", f"UPDATE OF {column}")]
        if column
        else [
            ("insert", "INSERT"),
            ("update", "UPDATE"),
        ]
    )
    for suffix, event in events:
        yield (
            f"CREATE TRIGGER {name}_{suffix} BEFORE {event} ON {table} FOR EACH ROW "
            f"WHEN {condition} BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def _postgresql(name, table, column, condition, message):
    event = f"UPDATE OF {column}" if column else "INSERT OR UPDATE"
    yield (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF {condition} THEN RAISE EXCEPTION USING "
        f"ERRCODE = 'integrity_constraint_violation', MESSAGE = '{message}'; END IF; "
        f"RETURN NEW; END $$"
    )
    yield f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"


def create_triggers(apps, schema_editor):
    build = {"sqlite": _sqlite, "postgresql": _postgresql}.get(schema_editor.connection.vendor)
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
    initial = True

    dependencies = [
        ("refs", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Invoice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("ready", "Ready")],
                        default="draft",
                        max_length=10,
                    ),
                ),
                (
                    "invoice_number",
                    models.CharField(blank=True, max_length=21, verbose_name="invoice number"),
                ),
                (
                    "posted_date",
                    models.DateField(blank=True, null=True, verbose_name="posted date"),
                ),
                ("due_date", models.DateField(blank=True, null=True, verbose_name="due date")),
                (
                    "currency",
                    models.CharField(
                        blank=True, help_text="ISO 4217 code, e.g. CAD.", max_length=3
                    ),
                ),
                (
                    "currency_rate",
                    models.DecimalField(
                        blank=True,
                        decimal_places=10,
                        help_text="Units of the business's base currency for one unit of this currency.",
                        max_digits=20,
                        null=True,
                        verbose_name="currency rate",
                    ),
                ),
                ("memo", models.TextField(blank=True, max_length=4000)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("payload_hash", models.CharField(blank=True, editable=False, max_length=64)),
                (
                    "provider_record_id",
                    models.CharField(
                        blank=True,
                        help_text="The invoice's id in the accounting system (Railz sourceObjectIds[0]).",
                        max_length=255,
                    ),
                ),
                ("last_pushed_at", models.DateTimeField(blank=True, null=True)),
                ("last_pushed_hash", models.CharField(blank=True, max_length=64)),
                (
                    "connection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="invoices",
                        to="refs.connection",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="refs.customer",
                    ),
                ),
                (
                    "subsidiaries",
                    models.ManyToManyField(blank=True, related_name="+", to="refs.subsidiary"),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="InvoiceLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveIntegerField(default=0)),
                ("description", models.TextField(blank=True, max_length=4000)),
                (
                    "quantity",
                    models.DecimalField(blank=True, decimal_places=4, max_digits=18, null=True),
                ),
                (
                    "unit_amount",
                    models.DecimalField(
                        blank=True,
                        decimal_places=4,
                        max_digits=18,
                        null=True,
                        verbose_name="unit amount",
                    ),
                ),
                (
                    "discount_percentage",
                    models.DecimalField(
                        blank=True,
                        decimal_places=4,
                        max_digits=7,
                        null=True,
                        verbose_name="discount %",
                    ),
                ),
                (
                    "account",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="refs.account",
                    ),
                ),
                (
                    "invoice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lines",
                        to="pushes.invoice",
                    ),
                ),
                (
                    "item",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="refs.item",
                        verbose_name="inventory item",
                    ),
                ),
                (
                    "tax_rate",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="refs.taxrate",
                        verbose_name="tax rate",
                    ),
                ),
                (
                    "tracking_options",
                    models.ManyToManyField(
                        blank=True,
                        related_name="+",
                        to="refs.trackingoption",
                        verbose_name="tracking",
                    ),
                ),
            ],
            options={
                "ordering": ["invoice", "position", "id"],
            },
        ),
        migrations.CreateModel(
            name="ProviderPushOptions",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("data_type", models.CharField(max_length=40)),
                ("options", models.JSONField(blank=True, default=list)),
                ("fetched_at", models.DateTimeField()),
                (
                    "connection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="push_options",
                        to="refs.connection",
                    ),
                ),
            ],
            options={
                "verbose_name": "provider push options",
                "verbose_name_plural": "provider push options",
            },
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                fields=["connection", "invoice_number"], name="pushes_invoice_number"
            ),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["connection", "-posted_date"], name="pushes_invoice_posted"),
        ),
        migrations.AddConstraint(
            model_name="providerpushoptions",
            constraint=models.UniqueConstraint(
                fields=("connection", "data_type"), name="pushes_pushoptions_unique"
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
