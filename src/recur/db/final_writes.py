"""The writes of an issuing transaction, sent in the order given, with its COMMIT.

The unit of work owns them: `writes_of(session)` is the transaction's queue, and
`Database.transaction` sends it with the COMMIT when the work is done.

Issuing ends by taking invoice numbers, and the year's sequence row stays locked
until COMMIT: every issuer of the year queues on it. Sent one by one, the writes and
the COMMIT would cost a round trip each, and under load each answer also waits for
its thread to get Python's GIL back while the row is held. On PostgreSQL every write
is queued and sent at the end, in the order it was given, with the COMMIT: runs of
statements in one psycopg pipeline, a large batch of rows by COPY (which a pipeline
cannot carry) in its place between them. The order is the callers' foreign-key
order, whatever the sizes: a row never reaches the database before the row it
refers to. On SQLite (one writer at a time) each write runs when it is given and
the unit of work commits as usual.
"""

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import TextClause
from sqlalchemy.orm import Session

from recur.db import audit, driver
from recur.db.models import Base

Result = Callable[[], list[tuple[Any, ...]]]


# From this many rows COPY beats a multi-row INSERT in the pipeline.
COPY_FROM_ROWS = 50
# Rows per INSERT statement: one statement for a generation's few rows rather than one
# execution per row, each of which PostgreSQL starts and ends an executor for. Each
# count is a statement of its own that psycopg prepares: a few counts, a few plans.
ROWS_PER_INSERT = 10


@dataclass
class _Statement:
    """A statement to send in a pipeline; its cursor once sent."""

    sql: str
    params: list[Any] | dict[str, Any]
    cursor: driver.Cursor | None = field(default=None, repr=False)

    def rows(self) -> list[tuple[Any, ...]]:
        assert self.cursor is not None, "read a statement's rows after the commit"
        return self.cursor.fetchall()


@dataclass(frozen=True)
class _Copy:
    """A batch of rows to COPY into a table."""

    model: type[Base]
    rows: driver.Rows


def writes_of(session: Session) -> "FinalWrites":
    """The transaction's queue of final writes (made on first use)."""
    writes = session.info.get(_KEY)
    if writes is None:
        writes = session.info[_KEY] = FinalWrites(session)
    assert isinstance(writes, FinalWrites)
    return writes


def commit_final_writes(session: Session) -> None:
    """The unit of work's last step: send the transaction's queued writes with its
    COMMIT (PostgreSQL; on SQLite they already ran and the session commits as usual)."""
    writes = session.info.pop(_KEY, None)
    if writes is not None:
        writes.commit()


_KEY = "recur.final_writes"


class FinalWrites:
    """Writes queued to go, in order, with the transaction's COMMIT (see the module
    docstring). `commit` ends the transaction on PostgreSQL: nothing may follow it.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = driver.is_postgres(session)
        self._queued: list[_Statement | _Copy] = []

    def insert(self, model: type[Base], rows: driver.Rows) -> None:
        """INSERT rows that all have the same keys."""
        if not rows:
            return
        if not self.postgres:
            driver.insert_rows(self.session, model, rows)
        elif len(rows) >= COPY_FROM_ROWS:
            self._queued.append(_Copy(model, rows))
        else:
            columns = tuple(rows[0])
            for first in range(0, len(rows), ROWS_PER_INSERT):
                chunk = rows[first : first + ROWS_PER_INSERT]
                sql = _insert_sql(model.__tablename__, columns, len(chunk))
                params = [driver.adapted(row[c]) for row in chunk for c in columns]
                self._queued.append(_Statement(sql, params))

    def update(self, model: type[Base], rows: driver.Rows) -> None:
        """UPDATE rows by their "id", each row with the same keys."""
        if not rows:
            return
        if not self.postgres:
            driver.update_by_id(self.session, model, rows)
            return
        statement, params = driver.update_from_arrays(self.session, model, rows)
        self.execute(statement, params)

    def execute(self, statement: TextClause, params: dict[str, Any]) -> Result:
        """Queue `statement`; the returned function gives its rows once committed."""
        if not self.postgres:
            rows = [tuple(row) for row in self.session.execute(statement, params)]
            return lambda: rows
        sql, constants = driver.for_psycopg(statement, self.session.get_bind().dialect)
        queued = _Statement(sql, {**constants, **params})
        self._queued.append(queued)
        return queued.rows

    def commit(self) -> None:
        """PostgreSQL: send what is queued, in order, and COMMIT with the last of it."""
        self.send(commit=True)

    def send(self, commit: bool = False) -> None:
        """Send what is queued, in order (and COMMIT with it if `commit`)."""
        if not self.postgres:
            return
        self.session.flush()  # the ORM's pending changes belong to this transaction too
        queued, self._queued = self._queued, []
        if queued:
            audit.note_write()  # sent on the driver's connection, unseen by the engine's events
        with driver.connection_of(self.session) as connection:
            for batch in _copies_and_pipelines(queued):
                if isinstance(batch, _Copy):
                    driver.copy_rows(connection, batch.model, batch.rows)
                else:
                    last = commit and batch[-1] is queued[-1]
                    sent = driver.send_pipelined(
                        connection, [(w.sql, w.params) for w in batch], last
                    )
                    for statement, cursor in zip(batch, sent, strict=True):
                        statement.cursor = cursor
            if commit and (not queued or isinstance(queued[-1], _Copy)):
                connection.commit()


def _copies_and_pipelines(
    queued: list[_Statement | _Copy],
) -> Iterator[_Copy | list[_Statement]]:
    """The queue in order: each COPY alone, each run of statements between them together."""
    for is_copy, run in groupby(queued, key=lambda write: isinstance(write, _Copy)):
        if is_copy:
            yield from (write for write in run if isinstance(write, _Copy))
        else:
            yield [write for write in run if isinstance(write, _Statement)]


@functools.cache
def _insert_sql(table: str, columns: tuple[str, ...], count: int) -> str:
    row = f"({', '.join(['%s'] * len(columns))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * count)}"
