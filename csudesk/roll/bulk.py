"""Bulk SQL for the roll import: one-parameter IN lists, reserved ids, executemany or COPY."""

import json
from functools import lru_cache

from sqlalchemy import ColumnElement, Table, any_, bindparam, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from csudesk.extensions import db


def on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def among(column, values: list) -> ColumnElement[bool]:
    """column IN values, with one parameter whatever the number of values.

    An IN list of BATCH parameters is planned 5x slower than `= ANY(array)` on PostgreSQL; on
    SQLite its text changes with the list's length, and sqlite3 keeps the last 128 compiled
    statements per connection: with IN lists of thousands of parameters that cache alone
    grew the import's RSS by ~13 MB per 100 k rows. json_each() keeps one statement text.
    """
    if on_postgresql():
        return column == any_(bindparam(None, values, type_=array_of(column.type)))
    return column.in_(
        select(literal_column("value")).select_from(func.json_each(json.dumps(values)))
    )


def select_among(table: Table, key: str, columns: tuple[str, ...], values: list) -> list[tuple]:
    """The `columns` of the rows whose `key` (a text column) is among values, as plain tuples
    straight from the driver.

    For the 5,000 keys of a batch, SQLAlchemy's row handling and psycopg's dumping of a list
    parameter item by item were a third of an unchanged re-import's time; one JSON text,
    unpacked by the database, costs neither. Names come from the models, never from a file.
    A value holding a NUL matches nothing and is left out: no stored text holds one, and
    PostgreSQL refuses the whole statement for it.
    """
    values = [value for value in values if "\x00" not in value]
    names = ", ".join(columns)
    if on_postgresql():
        sql = (
            f"SELECT {names} FROM {table.name} WHERE {key}"  # noqa: S608
            " = ANY(ARRAY(SELECT json_array_elements_text(%s::json)))"
        )
    else:
        sql = f"SELECT {names} FROM {table.name} WHERE {key} IN (SELECT value FROM json_each(?))"  # noqa: S608
    cursor = db.session.connection().connection.cursor()
    try:
        cursor.execute(sql, (json.dumps(values),))
        return cursor.fetchall()
    finally:
        cursor.close()


@lru_cache(maxsize=8)
def array_of(item_type) -> ARRAY:
    """One ARRAY type per column type, so each statement shape is compiled (and cached) once."""
    return ARRAY(item_type)


def reserve_ids(table: Table, count: int) -> list[int]:
    """Ids for `count` new rows: from the table's sequence on PostgreSQL; on SQLite, after the
    largest id, which no one else can take while this transaction holds the write lock
    (BEGIN IMMEDIATE, csudesk.db)."""
    if on_postgresql():
        return list(
            db.session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id'))"
                    " FROM generate_series(1, :n)"
                ),
                {"table": table.name, "n": count},
            )
        )
    start = (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(start, start + count))


def bulk_insert(table: Table, rows: list[dict]) -> None:
    """Insert rows in the session's transaction, straight through the driver.

    SQLite gets one executemany, PostgreSQL a COPY (3x faster than INSERT). Values still go
    through their columns' bind processing (UTC datetimes), applied only to the columns
    that have one: SQLAlchemy's per-row parameter handling cost ~10 % of the import.
    """
    connection = db.session.connection()
    columns = list(rows[0])
    processors = [
        (index, process)
        for index, name in enumerate(columns)
        if (process := table.c[name].type.bind_processor(connection.dialect)) is not None
    ]

    def values():
        # Most rows of a batch share one timestamp object: process it once.
        last: dict[int, tuple] = {}
        for row in rows:
            value = [row[name] for name in columns]
            for index, process in processors:
                given = value[index]
                seen = last.get(index)
                if seen is not None and seen[0] is given:
                    value[index] = seen[1]
                else:
                    value[index] = process(given)
                    last[index] = (given, value[index])
            yield tuple(value)

    names = ", ".join(columns)  # column names come from the model, never from the file
    if not on_postgresql():
        marks = ", ".join("?" * len(columns))
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({names}) VALUES ({marks})",  # noqa: S608
            list(values()),
        )
        return
    with (
        connection.connection.driver_connection.cursor() as cursor,
        cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy,
    ):
        for value in values():
            copy.write_row(value)
