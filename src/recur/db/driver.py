"""The psycopg adapter: the one place statements go to PostgreSQL past SQLAlchemy, and
the one translation of psycopg's errors.

The hottest paths (a billing run's writes, a preview's and a generation's reads) skip
SQLAlchemy's execution, which cost more than the statements themselves. Whatever
they send goes through this module, on a connection from `connection_of` (or the
async pool of db/loop_reads.py), and comes back with psycopg's errors raised as
SQLAlchemy raises its own (`as_sqlalchemy_errors`): the unit of work's retries and the
services' IntegrityError handling see every failure, whichever way the statement went.

Writes are a statement per table, whatever the batch size: PostgreSQL gets COPY for
large batches, its fastest way in (constraints and foreign keys are checked as for
INSERT), and UPDATE … FROM arrays; SQLite, an embedded single writer, gets plain
executemany. db/final_writes.py decides when each is sent.
"""

import asyncio
import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from psycopg.rows import namedtuple_row
from psycopg.types.json import Json
from sqlalchemy import (
    JSON,
    ClauseElement,
    Dialect,
    Table,
    TextClause,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from recur.db.models import Base

Rows = Sequence[dict[str, Any]]


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def reserve_ids(session: Session, *wanted: tuple[type[Base], int]) -> list[list[int]]:
    """New primary keys, ascending, for each (model, count), before the rows are written."""
    if is_postgres(session):
        # One statement, one row of arrays: a row per id would cost a fetch each.
        blocks = ", ".join(
            f"ARRAY(SELECT nextval(pg_get_serial_sequence('{model.__tablename__}', 'id')) "
            f"FROM generate_series(1, %(n{i})s))"
            for i, (model, _) in enumerate(wanted)
        )
        counts = {f"n{i}": count for i, (_, count) in enumerate(wanted)}
        # psycopg directly: SQLAlchemy's execution cost more than the statement.
        with connection_of(session) as connection:
            reserved = connection.execute(f"SELECT {blocks}", counts).fetchone()
        assert reserved is not None
        return [sorted(ids) for ids in reserved]
    # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so the
    # highest id cannot move under us; rowids are allocated the same way.
    reserved = []
    for model, count in wanted:
        highest = session.scalar(select(func.coalesce(func.max(model.id), 0)))  # type: ignore[attr-defined]
        reserved.append(list(range(int(highest or 0) + 1, int(highest or 0) + 1 + count)))
    return reserved


def insert_rows(session: Session, model: type[Base], rows: Rows) -> None:
    """INSERT rows that all have the same keys, now (SQLite: executemany)."""
    if rows:
        session.execute(insert(model), list(rows))


def insert_new_rows(session: Session, model: type[Base], rows: Rows) -> set[Any]:
    """INSERT the rows whose "id" is not taken, all in one statement, and return the
    ids inserted. PostgreSQL: a row whose id another transaction has written (committed,
    or committed while this one waited for it) is skipped (ON CONFLICT DO NOTHING), the
    rows sent as one array per column. SQLite: its transaction holds the write lock
    (BEGIN IMMEDIATE), so no other writer can take an id meanwhile: plain executemany."""
    if not rows:
        return set()
    if not is_postgres(session):
        insert_rows(session, model, rows)
        return {row["id"] for row in rows}
    table = cast(Table, model.__table__)
    dialect = session.get_bind().dialect
    columns = list(rows[0])
    arrays = ", ".join(f"%({c})s::{table.c[c].type.compile(dialect=dialect)}[]" for c in columns)
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
        "ON CONFLICT (id) DO NOTHING RETURNING id"
    )
    with connection_of(session) as connection:
        cursor = connection.execute(statement, {c: [row[c] for row in rows] for c in columns})
        return {row[0] for row in cursor.fetchall()}


def copy_rows(connection: psycopg.Connection[Any], model: type[Base], rows: Rows) -> None:
    """COPY rows that all have the same keys into the table of `model` (PostgreSQL, on a
    connection from `connection_of`)."""
    columns = list(rows[0])
    statement = f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN"
    # JSON columns (a document's seller and buyer) go as JSON; only they are wrapped, so
    # the rows of the hot tables are copied as they are.
    table = model.__table__.c
    json = [i for i, c in enumerate(columns) if isinstance(table[c].type, JSON)]
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = [row[c] for c in columns]
            for i in json:
                values[i] = adapted(values[i])
            copy.write_row(values)


def update_by_id(session: Session, model: type[Base], rows: Rows) -> None:
    """UPDATE rows by their "id", each row with the same keys, now (SQLite: executemany)."""
    if rows:
        session.execute(update(model), list(rows))


def update_from_arrays(
    session: Session, model: type[Base], rows: Rows
) -> tuple[TextClause, dict[str, list[Any]]]:
    """PostgreSQL's UPDATE by id of `rows`, and its parameters."""
    columns = tuple(rows[0])
    statement = _update_statement(model.__table__, columns, session.get_bind().dialect)
    return statement, {c: [row[c] for row in rows] for c in columns}


@functools.cache
def _update_statement(table: Table, columns: tuple[str, ...], dialect: Dialect) -> TextClause:
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


@contextmanager
def connection_of(session: Session) -> Iterator[psycopg.Connection[Any]]:
    """The session's psycopg connection, inside the session's transaction, for statements
    sent directly; any error they raise comes out as SQLAlchemy's (`as_sqlalchemy_errors`)."""
    connection = session.connection().connection.dbapi_connection
    with as_sqlalchemy_errors():
        yield cast(psycopg.Connection[Any], connection)


Cursor = psycopg.Cursor[Any]
Statement = tuple[str, list[Any] | dict[str, Any]]


def send_pipelined(
    connection: psycopg.Connection[Any], statements: Sequence[Statement], commit: bool = False
) -> list[Cursor]:
    """Send `statements` in one round trip (and the COMMIT with them if `commit`); each
    one's cursor, to fetch its rows from."""
    with connection.pipeline():
        cursors = [connection.cursor().execute(sql, params) for sql, params in statements]
        if commit:
            connection.commit()
    return cursors


def fetch_pipelined(
    connection: psycopg.Connection[Any], statements: Sequence[Statement]
) -> list[list[Any]]:
    """All rows of each statement, as named tuples, the statements sent in one round trip."""
    with connection.pipeline():
        cursors = [
            connection.cursor(row_factory=namedtuple_row).execute(sql, params)
            for sql, params in statements
        ]
    return [cursor.fetchall() for cursor in cursors]


async def fetch_pipelined_async(
    connection: psycopg.AsyncConnection[Any], statements: Sequence[Statement]
) -> list[list[Any]]:
    """`fetch_pipelined` on an async connection (db/loop_reads.py), errors translated."""
    with as_sqlalchemy_errors():
        async with connection.pipeline():
            cursors = [
                await connection.cursor(row_factory=namedtuple_row).execute(sql, params)
                for sql, params in statements
            ]
        return [await cursor.fetchall() for cursor in cursors]


async def listen(
    connect: Mapping[str, Any],
    channel: str,
    heard: Callable[[], None],
    listening: Callable[[bool], None],
) -> None:
    """Call `heard` on every notification of `channel` (PostgreSQL's LISTEN), on a
    connection of its own, for as long as the task runs. `listening(True)` once every
    later NOTIFY will be heard; `listening(False)` as soon as the connection is lost
    (then it connects again, a second later)."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(**connect, autocommit=True) as conn:
                await conn.execute(f"LISTEN {channel}")
                listening(True)
                async for _ in conn.notifies():
                    heard()
        except psycopg.Error:
            pass
        finally:
            listening(False)
        await asyncio.sleep(1)


def notify(session: Session, channel: str) -> None:
    """NOTIFY the listeners of `channel` when this transaction commits (PostgreSQL)."""
    if is_postgres(session):
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})


def adapted(value: Any) -> Any:
    """A parameter as psycopg sends it: a dict only when told it is JSON."""
    return Json(value) if isinstance(value, dict) else value


@functools.cache
def for_psycopg(statement: ClauseElement, dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """A Core statement compiled once for psycopg, used directly, and the values of the
    parameters it holds itself. Parameters go in binary: in text, an array's every
    element is quoted and escaped."""
    compiled = statement.compile(dialect=dialect)
    return re.sub(r"%\((\w+)\)s", r"%(\1)b", str(compiled)), compiled.params


@contextmanager
def as_sqlalchemy_errors() -> Iterator[None]:
    """psycopg's errors, used directly, raised as SQLAlchemy raises them: the unit of
    work's retries and the services' IntegrityError handling know those."""
    try:
        yield
    except psycopg.Error as error:
        raise DBAPIError.instance(None, None, error, psycopg.Error) from error
