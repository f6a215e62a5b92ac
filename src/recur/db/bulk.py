"""Bulk writes for the issuing transaction: a round trip per table, whatever the batch size.

PostgreSQL gets COPY for a billing run's batches, its fastest way in (constraints
and foreign keys are checked as for INSERT), and one multi-row INSERT for a manual
generation's few rows; SQLite, an embedded single writer, plain executemany.
"""

import functools
from collections.abc import Sequence
from typing import Any, cast

import psycopg
from sqlalchemy import Dialect, Table, TextClause, func, insert, select, text, update
from sqlalchemy.orm import Session

from recur.db.models import Base

Rows = Sequence[dict[str, Any]]


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def reserve_ids(session: Session, *wanted: tuple[type[Base], int]) -> list[list[int]]:
    """New primary keys, ascending, for each (model, count), before the rows are written."""
    if _is_postgres(session):
        # One statement, one row of arrays: a row per id would cost a fetch each.
        blocks = ", ".join(
            f"ARRAY(SELECT nextval(pg_get_serial_sequence('{model.__tablename__}', 'id')) "
            f"FROM generate_series(1, :n{i}))"
            for i, (model, _) in enumerate(wanted)
        )
        counts = {f"n{i}": count for i, (_, count) in enumerate(wanted)}
        return [sorted(ids) for ids in session.execute(text(f"SELECT {blocks}"), counts).one()]
    # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so the
    # highest id cannot move under us; rowids are allocated the same way.
    reserved = []
    for model, count in wanted:
        highest = session.scalar(select(func.coalesce(func.max(model.id), 0)))  # type: ignore[attr-defined]
        reserved.append(list(range(int(highest or 0) + 1, int(highest or 0) + 1 + count)))
    return reserved


# Below this many rows a multi-row INSERT is cheaper than COPY's extra round trip.
COPY_FROM_ROWS = 50


def insert_rows(session: Session, model: type[Base], rows: Rows) -> None:
    """INSERT rows that all have the same keys."""
    if not rows:
        return
    if not _is_postgres(session):
        session.execute(insert(model), list(rows))
        return
    columns = list(rows[0])
    if len(rows) >= COPY_FROM_ROWS:
        _copy(session, model.__tablename__, columns, rows)
        return
    listed = ", ".join(columns)
    placeholders = ", ".join(["%s"] * len(columns))
    with _raw(session).cursor() as cursor:  # psycopg pipelines executemany: one round trip
        cursor.executemany(
            f"INSERT INTO {model.__tablename__} ({listed}) VALUES ({placeholders})",
            [[row[c] for c in columns] for row in rows],
        )


def update_by_id(session: Session, model: type[Base], rows: Rows) -> None:
    """UPDATE rows by their "id", each row with the same keys."""
    if not rows:
        return
    if not _is_postgres(session):
        session.execute(update(model), list(rows))
        return
    columns = tuple(rows[0])
    statement = _update_from_arrays(model.__table__, columns, session.get_bind().dialect)
    session.execute(statement, {c: [row[c] for row in rows] for c in columns})


@functools.cache
def _update_from_arrays(table: Table, columns: tuple[str, ...], dialect: Dialect) -> TextClause:
    """UPDATE table FROM the columns given as arrays, matched on id. One statement
    whatever the count, and unnest's small row estimate keeps the plan on the primary
    key's index (a staged temporary table, never analysed, made the planner scan the
    whole table)."""
    arrays = ", ".join(
        f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in columns
    )
    assignments = ", ".join(f"{c} = s.{c}" for c in columns if c != "id")
    return text(
        f"UPDATE {table.name} AS t SET {assignments} "
        f"FROM unnest({arrays}) AS s({', '.join(columns)}) WHERE t.id = s.id"
    )


def _raw(session: Session) -> psycopg.Connection[Any]:
    """The session's psycopg connection, inside the session's transaction."""
    return cast(psycopg.Connection[Any], session.connection().connection.dbapi_connection)


def _copy(session: Session, table: str, columns: list[str], rows: Rows) -> None:
    with (
        _raw(session).cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row[c] for c in columns])
