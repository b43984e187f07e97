"""Customers and vendors composed to be pushed, and the triggers that keep their parent and
subsidiaries in their own connection (as 0001 and 0006 do for the documents)."""

from importlib import import_module

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

_invoices = import_module("pushes.migrations.0001_initial")


def same_connection_checks(table: str, label: str, refs: tuple[tuple[str, str], ...]):
    """(trigger name, table, column, condition, message) for a record's own references
    (column, referenced table) and its subsidiaries."""
    short = table.removeprefix("pushes_")
    for column, ref_table in refs:
        yield (
            f"pushes_{short}_{column.removesuffix('_id')}_conn",
            table,
            None,
            _invoices._differs(ref_table, column, "NEW.connection_id"),
            f"{label} {column.removesuffix('_id').replace('_', ' ')} belongs to another connection",
        )
    # Built from the constants of these migrations only, never from input.
    own = f"(SELECT connection_id FROM {table} WHERE id = NEW.{short}_id)"  # noqa: S608
    yield (
        f"pushes_{short}_subsidiary_conn",
        f"{table}_subsidiaries",
        None,
        _invoices._differs("refs_subsidiary", "subsidiary_id", own),
        f"{label} subsidiary belongs to another connection",
    )


CHECKS = [
    *same_connection_checks("pushes_customerrecord", "customer", (("parent_id", "refs_customer"),)),
    *same_connection_checks("pushes_vendorrecord", "vendor", (("parent_id", "refs_vendor"),)),
]


def triggers(checks):
    """The RunPython pair that creates and drops `checks`' triggers."""

    def create(apps, schema_editor):
        build = {"sqlite": _invoices._sqlite, "postgresql": _invoices._postgresql}.get(
            schema_editor.connection.vendor
        )
        if build is None:
            raise NotImplementedError(
                f"no same-connection triggers for {schema_editor.connection.vendor}"
            )
        for check in checks:
            for statement in build(*check):
                schema_editor.execute(statement)

    def drop(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for name, table, _column, _condition, _message in checks:
            if vendor == "sqlite":
                for suffix in ("insert", "update"):
                    schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{suffix}")
            else:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")

    return migrations.RunPython(create, drop)


class Migration(migrations.Migration):
    dependencies = [
        ("pushes", "0011_alerts"),
        ("refs", "0002_tracking_every_row_is_choosable"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomerRecord",
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
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("payload_hash", models.CharField(blank=True, editable=False, max_length=64)),
                (
                    "provider_record_id",
                    models.CharField(
                        blank=True,
                        help_text="The record's id in the accounting system (Railz sourceObjectIds[0]).",
                        max_length=255,
                    ),
                ),
                ("last_pushed_at", models.DateTimeField(blank=True, null=True)),
                ("last_pushed_hash", models.CharField(blank=True, max_length=64)),
                ("name", models.CharField(blank=True, max_length=500)),
                (
                    "contact_name",
                    models.CharField(blank=True, max_length=500, verbose_name="contact name"),
                ),
                ("email", models.CharField(blank=True, max_length=100)),
                ("phone", models.CharField(blank=True, max_length=30)),
                (
                    "tax_number",
                    models.CharField(blank=True, max_length=255, verbose_name="tax number"),
                ),
                (
                    "currency",
                    models.CharField(
                        blank=True, help_text="ISO 4217 code, e.g. CAD.", max_length=3
                    ),
                ),
                (
                    "billing_line1",
                    models.CharField(blank=True, max_length=500, verbose_name="address line 1"),
                ),
                (
                    "billing_line2",
                    models.CharField(blank=True, max_length=500, verbose_name="address line 2"),
                ),
                ("billing_city", models.CharField(blank=True, max_length=255, verbose_name="city")),
                (
                    "billing_region",
                    models.CharField(blank=True, max_length=255, verbose_name="region"),
                ),
                (
                    "billing_country",
                    models.CharField(
                        blank=True,
                        help_text="ISO 3166 alpha-3 code, e.g. CAN.",
                        max_length=3,
                        verbose_name="country",
                    ),
                ),
                (
                    "billing_postal_code",
                    models.CharField(blank=True, max_length=30, verbose_name="postal code"),
                ),
                (
                    "shipping_line1",
                    models.CharField(blank=True, max_length=500, verbose_name="address line 1"),
                ),
                (
                    "shipping_line2",
                    models.CharField(blank=True, max_length=500, verbose_name="address line 2"),
                ),
                (
                    "shipping_city",
                    models.CharField(blank=True, max_length=255, verbose_name="city"),
                ),
                (
                    "shipping_region",
                    models.CharField(blank=True, max_length=255, verbose_name="region"),
                ),
                (
                    "shipping_country",
                    models.CharField(
                        blank=True,
                        help_text="ISO 3166 alpha-3 code, e.g. CAN.",
                        max_length=3,
                        verbose_name="country",
                    ),
                ),
                (
                    "shipping_postal_code",
                    models.CharField(blank=True, max_length=30, verbose_name="postal code"),
                ),
                (
                    "connection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="%(class)ss",
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
                    "parent",
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
                "verbose_name": "customer",
                "ordering": ["-created_at", "-id"],
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="VendorRecord",
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
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("payload_hash", models.CharField(blank=True, editable=False, max_length=64)),
                (
                    "provider_record_id",
                    models.CharField(
                        blank=True,
                        help_text="The record's id in the accounting system (Railz sourceObjectIds[0]).",
                        max_length=255,
                    ),
                ),
                ("last_pushed_at", models.DateTimeField(blank=True, null=True)),
                ("last_pushed_hash", models.CharField(blank=True, max_length=64)),
                ("name", models.CharField(blank=True, max_length=500)),
                (
                    "contact_name",
                    models.CharField(blank=True, max_length=500, verbose_name="contact name"),
                ),
                ("email", models.CharField(blank=True, max_length=100)),
                ("phone", models.CharField(blank=True, max_length=30)),
                (
                    "tax_number",
                    models.CharField(blank=True, max_length=255, verbose_name="tax number"),
                ),
                (
                    "currency",
                    models.CharField(
                        blank=True, help_text="ISO 4217 code, e.g. CAD.", max_length=3
                    ),
                ),
                (
                    "billing_line1",
                    models.CharField(blank=True, max_length=500, verbose_name="address line 1"),
                ),
                (
                    "billing_line2",
                    models.CharField(blank=True, max_length=500, verbose_name="address line 2"),
                ),
                ("billing_city", models.CharField(blank=True, max_length=255, verbose_name="city")),
                (
                    "billing_region",
                    models.CharField(blank=True, max_length=255, verbose_name="region"),
                ),
                (
                    "billing_country",
                    models.CharField(
                        blank=True,
                        help_text="ISO 3166 alpha-3 code, e.g. CAN.",
                        max_length=3,
                        verbose_name="country",
                    ),
                ),
                (
                    "billing_postal_code",
                    models.CharField(blank=True, max_length=30, verbose_name="postal code"),
                ),
                (
                    "shipping_line1",
                    models.CharField(blank=True, max_length=500, verbose_name="address line 1"),
                ),
                (
                    "shipping_line2",
                    models.CharField(blank=True, max_length=500, verbose_name="address line 2"),
                ),
                (
                    "shipping_city",
                    models.CharField(blank=True, max_length=255, verbose_name="city"),
                ),
                (
                    "shipping_region",
                    models.CharField(blank=True, max_length=255, verbose_name="region"),
                ),
                (
                    "shipping_country",
                    models.CharField(
                        blank=True,
                        help_text="ISO 3166 alpha-3 code, e.g. CAN.",
                        max_length=3,
                        verbose_name="country",
                    ),
                ),
                (
                    "shipping_postal_code",
                    models.CharField(blank=True, max_length=30, verbose_name="postal code"),
                ),
                (
                    "connection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="%(class)ss",
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
                    "parent",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="refs.vendor",
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
                "verbose_name": "vendor",
                "ordering": ["-created_at", "-id"],
                "abstract": False,
            },
        ),
        triggers(CHECKS),
    ]
