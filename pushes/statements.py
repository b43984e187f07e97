"""The push path's most frequent writes and reads, as statements built once per shape.

Every push changes state three times and writes a line on its timeline each time; the ORM
compiled each of those UPDATEs and INSERTs anew, about a sixth of a push's CPU; a bulk push's
`bulk_create` of its pushes compiled every field of every row, a third of queuing's. Here the SQL
is built once per model and set of columns from the models' own table and column names (never
from input), and only the values are converted and bound per call, as the fields themselves
would (`get_db_prep_save`, short of the calls that give a value back as it is). The reads
(`rows_read`, `column_read`, a query `OnceCompiled` keeps) give the instances and values the
ORM would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import connection as database
from django.db import models

__all__ = [
    "OnceCompiled",
    "column_read",
    "row_insert",
    "row_update",
    "row_update_then_insert",
    "rows_insert",
    "rows_read",
]

# The most rows one INSERT writes: a statement is kept for each count of rows up to it.
MOST_ROWS = 100


class OnceCompiled:
    """An ORM query whose SQL is compiled once for each shape and kept: used as a decorator on
    the function that builds the query (`query(*args)`), for a read so frequent on the push
    path that the ORM's compile of it was a visible part of a push's CPU.

    `sql(key, params, *args)` is the SQL of `query(*args)`, compiled the first time for `key`
    (what decides the SQL: the number of ids, a flag), or None when the ORM binds other
    parameters than `params` (another Django's shape): the caller then runs `query(*args)`
    through the ORM, compiled each time, and nothing wrong is ever kept."""

    def __init__(self, query: Callable[..., Any]) -> None:
        functools.update_wrapper(self, query)
        self.query = query
        self._sql: dict[Any, str] = {}

    def __call__(self, *args: Any) -> Any:
        return self.query(*args)

    def sql(self, key: Any, params: list[Any], *args: Any) -> str | None:
        sql = self._sql.get(key)
        if sql is None:
            sql, bound = self.query(*args).query.sql_with_params()
            if list(bound) != params:
                return None
            self._sql[key] = sql
        return sql


def rows_insert(model: type[models.Model], rows: list[models.Model], *, keys: bool = False) -> None:
    """INSERT the unsaved `rows` of `model` (what `bulk_create` does, without compiling each row
    anew), in as many statements as the database's limit of parameters asks, as `bulk_create`
    splits them. With `keys`, each row's primary key is read back and set, as `bulk_create`
    sets it; without, it is not: for rows nobody reads again in the same breath (timeline
    lines)."""
    if not rows:
        return
    if keys and not database.features.can_return_rows_from_bulk_insert:
        model.objects.bulk_create(rows)
        return
    size = min(max(database.ops.bulk_batch_size(_insert_fields(model), rows), 1), MOST_ROWS)
    with database.cursor() as cursor:
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            statement = _insert_statement(model, len(batch), returning=keys)
            cursor.execute(statement, _insert_params(model, batch))
            if keys:
                for row, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                    row.pk = pk
    for row in rows:
        _saved(row)


def row_insert(row: models.Model) -> None:
    """INSERT the unsaved `row` and set its primary key, as `save(force_insert=True)` does
    (an IntegrityError as the ORM raises it)."""
    model = type(row)
    if not database.features.can_return_columns_from_insert:
        row.save(force_insert=True)
        return
    with database.cursor() as cursor:
        cursor.execute(_insert_statement(model, 1, returning=True), _insert_params(model, [row]))
        row.pk = cursor.fetchone()[0]
    _saved(row)


def rows_read(
    model: type[models.Model],
    sql: str,
    params: list[Any],
    extra: tuple[str, ...] = (),
    *,
    joined: str | None = None,
) -> list:
    """The rows of `sql` (selecting every concrete column of `model` in order, then one column
    for each name in `extra`) as instances of `model`, the extra columns set as attributes of
    those names: what `Model.objects.raw` gives, without resolving its columns and converters
    again for every call. The cursor's description is not read: psycopg builds an object per
    column for it on each read, a twentieth of a webhook's CPU.

    `joined` names a foreign key of `model` whose row's every concrete column `sql` selects
    right after the model's own (before the extra ones), as `select_related` of that one key
    does: each instance then holds its related row, as that would."""
    fields, converters = _read_plan(model)
    names = [field.attname for field in fields]
    related = None
    if joined is not None:
        key = model._meta.get_field(joined)
        related_fields, related_converters = _read_plan(key.related_model)
        related = (key, related_fields, related_converters, [f.attname for f in related_fields])
    own = len(fields)
    end = own + (len(related[1]) if related else 0)
    found = []
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            if len(row) != end + len(extra):
                raise ValueError(
                    f"{sql!r} does not select {model.__name__}'s columns"
                    + (f", its {joined}'s" if joined else "")
                    + f" and {extra}"
                )
            values = _converted(row, converters)
            instance = model.from_db(database.alias, names, values[:own])
            if related is not None:
                key, _, related_converters, related_names = related
                related_values = _converted(row[own:end], related_converters)
                key.set_cached_value(
                    instance,
                    key.related_model.from_db(database.alias, related_names, related_values),
                )
            for name, value in zip(extra, values[end:], strict=True):
                setattr(instance, name, value)
            found.append(instance)
    return found


def _converted(row: tuple, converters: tuple) -> list:
    values = list(row)
    for index, column, field_converters in converters:
        for converter in field_converters:
            values[index] = converter(values[index], column, database)
    return values


def _saved(row: models.Model) -> None:
    row._state.adding = False
    row._state.db = database.alias


def _insert_params(model: type[models.Model], rows: list[models.Model]) -> list[Any]:
    plan = _insert_plan(model)
    params: list[Any] = []
    for row in rows:
        params.extend(_prep(field, kind, field.pre_save(row, True)) for field, kind in plan)
    return params


# What `_prep` may know of a field without asking it: decided once per field, since a field's
# hash (a cache's key) costs a Python call; of plain text, a whole number, a moment, other.
_TEXT, _NUMBER, _MOMENT, _OTHER = range(4)


def _prep(field: models.Field, kind: int, value: Any) -> Any:
    """`field.get_db_prep_save(value)`, short of the calls where it gives the value back (an
    empty column, text into a text field, a whole number into a number or a key) or where all
    it does is the database's own adaptation (an aware moment into a date and time field)."""
    if value is None and field.null:
        return None
    if kind == _TEXT and isinstance(value, str):
        return value
    if kind == _NUMBER and type(value) is int:
        return value
    if kind == _MOMENT and type(value) is datetime and value.utcoffset() is not None:
        # DateTimeField.get_prep_value gives an aware datetime back as it is.
        return database.ops.adapt_datetimefield_value(value)
    return field.get_db_prep_save(value, database)


@functools.cache
def _insert_plan(model: type[models.Model]) -> tuple[tuple[models.Field, int], ...]:
    return tuple((field, _kind(field)) for field in _insert_fields(model))


@functools.cache
def _named_plan(model: type[models.Model], name: str) -> tuple[models.Field, int]:
    field = model._meta.get_field(name)
    return field, _kind(field)


_NUMBER_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
)


def _kind(field: models.Field) -> int:
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    if type(field) in (models.CharField, models.TextField):
        return _TEXT
    if type(target) in _NUMBER_FIELDS:
        return _NUMBER
    if type(field) is models.DateTimeField:
        return _MOMENT
    return _OTHER


@functools.cache
def _read_plan(model: type[models.Model]) -> tuple[tuple[models.Field, ...], tuple]:
    """The concrete fields of `model` in the order a SELECT of them gives, and for each one
    that needs them, the converters the ORM applies to its column (SQLite's dates, JSON)."""
    fields = tuple(model._meta.concrete_fields)
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        found = database.ops.get_db_converters(column) + column.get_db_converters(database)
        if found:
            converters.append((index, column, tuple(found)))
    return fields, tuple(converters)


def row_update(
    model: type[models.Model], pk: Any, *, where: dict[str, Any], values: dict[str, Any]
) -> int | None:
    """UPDATE the row `pk` of `model` with `values` where its columns equal `where` (a None
    there: where the column is empty); the number of rows changed, or None (nothing done) when
    a value is an expression (`F(...) - 1`) the caller then leaves to the ORM."""
    update = _update(model, pk, where, values)
    if update is None:
        return None
    with database.cursor() as cursor:
        cursor.execute(*update)
        return cursor.rowcount


def row_update_then_insert(
    model: type[models.Model],
    pk: Any,
    *,
    where: dict[str, Any],
    values: dict[str, Any],
    rows: list[models.Model],
) -> int | None:
    """`row_update` and, only if it changed the row, `rows_insert` of `rows` (unsaved rows of
    one model), as one statement: on PostgreSQL a data-modifying WITH runs both or neither, so
    the pair needs no transaction around it (BEGIN and COMMIT are a round trip each there).
    The number of rows changed (0: `where` no longer matched, nothing was written), or None
    (nothing done) where it cannot be one statement: another database, no rows, an expression
    among the values, a column of another table; the caller then writes them its own way."""
    if database.vendor != "postgresql" or not rows:
        return None
    written = type(rows[0])
    if any(type(row) is not written for row in rows) or None in _column_types(written):
        return None
    update = _update(model, pk, where, values)
    if update is None:
        return None
    sql, params = update
    statement = _update_then_insert_statement(sql, written, len(rows))
    with database.cursor() as cursor:
        cursor.execute(statement, [*params, *_insert_params(written, rows)])
        inserted = cursor.rowcount
    if not inserted:
        return 0
    for row in rows:
        _saved(row)
    return 1


def _update(
    model: type[models.Model], pk: Any, where: dict[str, Any], values: dict[str, Any]
) -> tuple[str, list[Any]] | None:
    """The UPDATE of `row_update` and its parameters, or None where a value is an expression
    or a column is in another table."""
    if any(hasattr(value, "resolve_expression") for value in values.values()) or not (
        _local_columns(model).issuperset(values) and _local_columns(model).issuperset(where)
    ):
        return None
    names = tuple(values)
    equal = {name: value for name, value in where.items() if value is not None}
    empty = tuple(name for name, value in where.items() if value is None)
    params = [_prep(*_named_plan(model, name), _plain(values[name])) for name in names]
    params.append(pk)
    params.extend(_prep(*_named_plan(model, name), _plain(value)) for name, value in equal.items())
    return _update_statement(model, names, tuple(equal), empty), params


@functools.cache
def _column_types(model: type[models.Model]) -> tuple[str | None, ...]:
    return tuple(field.db_type(database) for field in _insert_fields(model))


@functools.cache
def _update_then_insert_statement(update: str, written: type[models.Model], count: int) -> str:
    quote = database.ops.quote_name
    fields = _insert_fields(written)
    columns = ", ".join(quote(field.column) for field in fields)
    # Each value cast to its column's type: a VALUES list types its columns from its first
    # row, where an empty (NULL) value would otherwise be text.
    row = "(" + ", ".join(f"CAST(%s AS {kind})" for kind in _column_types(written)) + ")"
    # Built from the models' own table, column names and types only, never from input.
    return (
        f"WITH changed AS ({update} RETURNING 1) "  # noqa: S608
        f"INSERT INTO {quote(written._meta.db_table)} ({columns}) "
        f"SELECT * FROM (VALUES {', '.join([row] * count)}) AS written "
        "WHERE EXISTS (SELECT 1 FROM changed)"
    )


def column_read(model: type[models.Model], pk: Any, name: str) -> Any:
    """The column `name` of the row `pk` of `model` (None if there is no such row), converted
    as the ORM converts it: `filter(pk=pk).values_list(name, flat=True).first()` without
    compiling it each time."""
    field = model._meta.get_field(name)
    with database.cursor() as cursor:
        cursor.execute(_column_statement(model, name), [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    value = row[0]
    column = field.get_col(model._meta.db_table)
    for converter in database.ops.get_db_converters(column) + column.get_db_converters(database):
        value = converter(value, column, database)
    return value


@functools.cache
def _column_statement(model: type[models.Model], name: str) -> str:
    quote = database.ops.quote_name
    meta = model._meta
    return (
        f"SELECT {quote(meta.get_field(name).column)} FROM {quote(meta.db_table)} "  # noqa: S608
        f"WHERE {quote(meta.pk.column)} = %s"
    )


def _plain(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


@functools.cache
def _local_columns(model: type[models.Model]) -> frozenset[str]:
    """The fields whose columns are in the model's own table (not a parent's)."""
    return frozenset(field.name for field in model._meta.local_concrete_fields)


@functools.cache
def _insert_fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and isinstance(field, models.AutoField | models.BigAutoField))
    )


@functools.cache
def _insert_statement(model: type[models.Model], count: int, *, returning: bool = False) -> str:
    quote = database.ops.quote_name
    fields = _insert_fields(model)
    columns = ", ".join(quote(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES {', '.join([row] * count)}"
        + (f" RETURNING {quote(model._meta.pk.column)}" if returning else "")
    )


@functools.cache
def _update_statement(
    model: type[models.Model],
    names: tuple[str, ...],
    where: tuple[str, ...],
    empty: tuple[str, ...] = (),
) -> str:
    quote = database.ops.quote_name
    meta = model._meta
    assignments = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in names)
    conditions = "".join(f" AND {quote(meta.get_field(name).column)} = %s" for name in where)
    conditions += "".join(f" AND {quote(meta.get_field(name).column)} IS NULL" for name in empty)
    return (
        f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(meta.pk.column)} = %s{conditions}"
    )
