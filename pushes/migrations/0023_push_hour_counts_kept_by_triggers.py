"""The running totals of pushes (`PushHourCount`) are kept by the database itself.

Triggers on the push table add a push to its column when it is written, move it when its
state, creation hour or connection changes and take it away when it is deleted, in the
statement that changed it. Every write counts, whatever code made it (the pipeline, a bulk
update, an admin, a data fix), and the pipeline no longer spends a statement of its own on
each change of state.
"""

from django.db import migrations

# The count column of a state: in progress for the three in-flight states, else its own name.
SQLITE_COLUMN = (
    "CASE WHEN {row}.state IN ('queued', 'submitting', 'pending') "
    "THEN 'in_flight' ELSE {row}.state END"
)
SQLITE_HOUR = "substr({row}.created_at, 1, 13) || ':00:00'"


def _sqlite_add(row: str) -> str:
    # Built from the constants in this file only, never from input.
    return (
        'INSERT INTO pushes_pushhourcount (hour, connection_id, "column", count) '  # noqa: S608
        f"VALUES ({SQLITE_HOUR.format(row=row)}, {row}.connection_id, "
        f"{SQLITE_COLUMN.format(row=row)}, 1) "
        'ON CONFLICT (hour, connection_id, "column") DO UPDATE SET count = count + 1;'
    )


def _sqlite_take_away(row: str) -> str:
    # Only ever from the row its push was added to: a row deleted with its connection (or by a
    # flush) is not written again for a push deleted after it.
    return (
        "UPDATE pushes_pushhourcount SET count = count - 1 "  # noqa: S608
        f"WHERE hour = {SQLITE_HOUR.format(row=row)} AND connection_id = {row}.connection_id "
        f'AND "column" = {SQLITE_COLUMN.format(row=row)};'
    )


SQLITE_CREATE = [
    "CREATE TRIGGER pushes_hour_count_insert AFTER INSERT ON pushes_pushrequest "
    f"BEGIN {_sqlite_add('NEW')} END",
    "CREATE TRIGGER pushes_hour_count_update AFTER UPDATE ON pushes_pushrequest "
    f"WHEN {SQLITE_COLUMN.format(row='OLD')} IS NOT {SQLITE_COLUMN.format(row='NEW')} "
    f"OR {SQLITE_HOUR.format(row='OLD')} IS NOT {SQLITE_HOUR.format(row='NEW')} "
    "OR OLD.connection_id IS NOT NEW.connection_id "
    f"BEGIN {_sqlite_take_away('OLD')} {_sqlite_add('NEW')} END",
    "CREATE TRIGGER pushes_hour_count_delete AFTER DELETE ON pushes_pushrequest "
    f"BEGIN {_sqlite_take_away('OLD')} END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS pushes_hour_count_insert",
    "DROP TRIGGER IF EXISTS pushes_hour_count_update",
    "DROP TRIGGER IF EXISTS pushes_hour_count_delete",
]

POSTGRESQL_CREATE = [
    """
CREATE FUNCTION pushes_hour_count_column(state varchar) RETURNS varchar
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN state IN ('queued', 'submitting', 'pending') THEN 'in_flight' ELSE state END
$$
""",
    """
CREATE FUNCTION pushes_hour_count_add(at timestamptz, connection bigint, state varchar)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO pushes_pushhourcount (hour, connection_id, "column", count)
    VALUES (date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', connection,
            pushes_hour_count_column(state), 1)
    ON CONFLICT (hour, connection_id, "column")
    DO UPDATE SET count = pushes_pushhourcount.count + 1
$$
""",
    # Only ever from the row its push was added to: a row deleted with its connection is not
    # written again for a push deleted after it.
    """
CREATE FUNCTION pushes_hour_count_take_away(at timestamptz, connection bigint, state varchar)
RETURNS void LANGUAGE sql AS $$
    UPDATE pushes_pushhourcount SET count = count - 1
    WHERE hour = date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
      AND connection_id = connection AND "column" = pushes_hour_count_column(state)
$$
""",
    """
CREATE FUNCTION pushes_hour_count_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pushes_hour_count_add(NEW.created_at, NEW.connection_id, NEW.state);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pushes_hour_count_take_away(OLD.created_at, OLD.connection_id, OLD.state);
    ELSIF pushes_hour_count_column(OLD.state) IS DISTINCT FROM pushes_hour_count_column(NEW.state)
        OR date_trunc('hour', OLD.created_at AT TIME ZONE 'UTC')
           IS DISTINCT FROM date_trunc('hour', NEW.created_at AT TIME ZONE 'UTC')
        OR OLD.connection_id IS DISTINCT FROM NEW.connection_id THEN
        PERFORM pushes_hour_count_take_away(OLD.created_at, OLD.connection_id, OLD.state);
        PERFORM pushes_hour_count_add(NEW.created_at, NEW.connection_id, NEW.state);
    END IF;
    RETURN NULL;
END
$$
""",
    "CREATE TRIGGER pushes_hour_count AFTER INSERT OR UPDATE OR DELETE ON pushes_pushrequest "
    "FOR EACH ROW EXECUTE FUNCTION pushes_hour_count_follow()",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS pushes_hour_count ON pushes_pushrequest",
    "DROP FUNCTION IF EXISTS pushes_hour_count_follow()",
    "DROP FUNCTION IF EXISTS pushes_hour_count_add(timestamptz, bigint, varchar)",
    "DROP FUNCTION IF EXISTS pushes_hour_count_take_away(timestamptz, bigint, varchar)",
    "DROP FUNCTION IF EXISTS pushes_hour_count_column(varchar)",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise NotImplementedError(
                f"the push counts' triggers are written for SQLite and PostgreSQL, not "
                f"{schema_editor.connection.vendor}"
            )
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("pushes", "0022_dashboard_needs_person_index"),
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        ),
    ]
