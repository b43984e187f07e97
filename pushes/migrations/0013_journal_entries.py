"""Journal entries and their lines, and the triggers that keep every reference of theirs in the
entry's own connection (as 0001, 0006 and 0012 do for the other types)."""

from importlib import import_module

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

_parties = import_module("pushes.migrations.0012_customers_and_vendors")
_differs = _parties._invoices._differs

TABLE, LINES, LABEL = "pushes_journalentry", "pushes_journalentryline", "journal entry"
# Built from the constants in this file only, never from input.
OWN = f"(SELECT connection_id FROM {TABLE} WHERE id = NEW.journal_entry_id)"  # noqa: S608
LINE_OF = (
    f"(SELECT e.connection_id FROM {TABLE} e JOIN {LINES} l ON l.journal_entry_id = e.id"  # noqa: S608
    " WHERE l.id = NEW.journalentryline_id)"
)
LINE_REFS = (
    ("account", "refs_account"),
    ("customer", "refs_customer"),
    ("vendor", "refs_vendor"),
    ("tax_rate", "refs_taxrate"),
)

CHECKS = [
    *_parties.same_connection_checks(TABLE, LABEL, ()),
    *(
        (
            f"pushes_journalentry_line_{name}_conn",
            LINES,
            None,
            _differs(ref_table, f"{name}_id", OWN),
            f"{LABEL} line {name.replace('_', ' ')} belongs to another connection",
        )
        for name, ref_table in LINE_REFS
    ),
    (
        "pushes_journalentry_line_tracking_conn",
        f"{LINES}_tracking_options",
        None,
        _differs("refs_trackingoption", "trackingoption_id", LINE_OF),
        f"{LABEL} line tracking option belongs to another connection",
    ),
]


class Migration(migrations.Migration):

    dependencies = [
        ('pushes', '0012_customers_and_vendors'),
        ('refs', '0002_tracking_every_row_is_choosable'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='JournalEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('ready', 'Ready')], default='draft', max_length=10)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('payload_hash', models.CharField(blank=True, editable=False, max_length=64)),
                ('provider_record_id', models.CharField(blank=True, help_text="The record's id in the accounting system (Railz sourceObjectIds[0]).", max_length=255)),
                ('last_pushed_at', models.DateTimeField(blank=True, null=True)),
                ('last_pushed_hash', models.CharField(blank=True, max_length=64)),
                ('posted_date', models.DateField(blank=True, null=True, verbose_name='posted date')),
                ('currency', models.CharField(blank=True, help_text='ISO 4217 code, e.g. CAD.', max_length=3)),
                ('currency_rate', models.DecimalField(blank=True, decimal_places=10, help_text="Units of the business's base currency for one unit of this currency.", max_digits=20, null=True, verbose_name='currency rate')),
                ('memo', models.TextField(blank=True, max_length=4000)),
                ('journal_number', models.CharField(blank=True, max_length=255, verbose_name='journal number')),
                ('connection', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(class)ss', to='refs.connection')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('subsidiaries', models.ManyToManyField(blank=True, related_name='+', to='refs.subsidiary')),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'journal entry',
                'verbose_name_plural': 'journal entries',
                'ordering': ['-created_at', '-id'],
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='JournalEntryLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveIntegerField(default=0)),
                ('description', models.TextField(blank=True, max_length=4000)),
                ('debit', models.DecimalField(blank=True, decimal_places=4, max_digits=18, null=True, verbose_name='debit')),
                ('credit', models.DecimalField(blank=True, decimal_places=4, max_digits=18, null=True, verbose_name='credit')),
                ('account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='refs.account')),
                ('customer', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='refs.customer')),
                ('journal_entry', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='pushes.journalentry')),
                ('tax_rate', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='refs.taxrate', verbose_name='tax rate')),
                ('tracking_options', models.ManyToManyField(blank=True, related_name='+', to='refs.trackingoption', verbose_name='tracking')),
                ('vendor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='refs.vendor')),
            ],
            options={
                'ordering': ['journal_entry', 'position', 'id'],
            },
        ),
        _parties.triggers(CHECKS),
    ]
