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


def _sqlite_bump(row: str, n: str) -> str:
    # Built from the constants in this file only, never from input.
    return (
        'INSERT INTO pushes_pushhourcount (hour, connection_id, "column", count) '  # noqa: S608
        f"VALUES ({SQLITE_HOUR.format(row=row)}, {row}.connection_id, "
        f"{SQLITE_COLUMN.format(row=row)}, {n}) "
        'ON CONFLICT (hour, connection_id, "column") DO UPDATE SET count = count + excluded.count;'
    )


SQLITE_CREATE = [
    "CREATE TRIGGER pushes_hour_count_insert AFTER INSERT ON pushes_pushrequest "
    f"BEGIN {_sqlite_bump('NEW', '1')} END",
    "CREATE TRIGGER pushes_hour_count_update AFTER UPDATE ON pushes_pushrequest "
    f"WHEN {SQLITE_COLUMN.format(row='OLD')} IS NOT {SQLITE_COLUMN.format(row='NEW')} "
    f"OR {SQLITE_HOUR.format(row='OLD')} IS NOT {SQLITE_HOUR.format(row='NEW')} "
    "OR OLD.connection_id IS NOT NEW.connection_id "
    f"BEGIN {_sqlite_bump('OLD', '-1')} {_sqlite_bump('NEW', '1')} END",
    "CREATE TRIGGER pushes_hour_count_delete AFTER DELETE ON pushes_pushrequest "
    f"BEGIN {_sqlite_bump('OLD', '-1')} END",
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
CREATE FUNCTION pushes_hour_count_bump(at timestamptz, connection bigint, state varchar, n integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO pushes_pushhourcount (hour, connection_id, "column", count)
    VALUES (date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', connection,
            pushes_hour_count_column(state), n)
    ON CONFLICT (hour, connection_id, "column")
    DO UPDATE SET count = pushes_pushhourcount.count + excluded.count
$$
""",
    """
CREATE FUNCTION pushes_hour_count_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pushes_hour_count_bump(NEW.created_at, NEW.connection_id, NEW.state, 1);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pushes_hour_count_bump(OLD.created_at, OLD.connection_id, OLD.state, -1);
    ELSIF pushes_hour_count_column(OLD.state) IS DISTINCT FROM pushes_hour_count_column(NEW.state)
        OR date_trunc('hour', OLD.created_at AT TIME ZONE 'UTC')
           IS DISTINCT FROM date_trunc('hour', NEW.created_at AT TIME ZONE 'UTC')
        OR OLD.connection_id IS DISTINCT FROM NEW.connection_id THEN
        PERFORM pushes_hour_count_bump(OLD.created_at, OLD.connection_id, OLD.state, -1);
        PERFORM pushes_hour_count_bump(NEW.created_at, NEW.connection_id, NEW.state, 1);
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
    "DROP FUNCTION IF EXISTS pushes_hour_count_bump(timestamptz, bigint, varchar, integer)",
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
