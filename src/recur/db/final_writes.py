"""The end of an issuing transaction: its last writes and its COMMIT in one round trip.

Issuing ends by taking invoice numbers, and the year's sequence row stays locked
until COMMIT: every issuer of the year queues on it. Sent one by one, the last
writes and the COMMIT cost a round trip each, and under load each answer also waits
for its thread to get Python's GIL back while the row is held. On PostgreSQL they
go in one psycopg pipeline that ends with COMMIT, so the lock lasts as long as
PostgreSQL needs and no longer. On SQLite (one writer at a time) each runs when it
is queued and the unit of work commits as usual.
"""

import functools
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy import TextClause
from sqlalchemy.orm import Session

from recur.db import bulk
from recur.db.models import Base

Result = Callable[[], list[tuple[Any, ...]]]


# From this many rows COPY, sent now, beats a multi-row INSERT in the pipeline.
COPY_FROM_ROWS = 50
# Rows per INSERT statement: one statement for a generation's few rows rather than one
# execution per row, each of which PostgreSQL starts and ends an executor for. Each
# count is a statement of its own that psycopg prepares: a few counts, a few plans.
ROWS_PER_INSERT = 10


class FinalWrites:
    """Writes queued to go with the transaction's COMMIT (see the module docstring).

    `commit` ends the transaction on PostgreSQL: nothing may follow it.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = bulk.is_postgres(session)
        self._queued: list[tuple[str, list[Any] | dict[str, Any]]] = []
        self._cursors: list[psycopg.Cursor[Any]] = []

    def insert(self, model: type[Base], rows: bulk.Rows) -> None:
        """INSERT rows that all have the same keys (a large batch goes by COPY, now)."""
        if not rows:
            return
        if not self.postgres or len(rows) >= COPY_FROM_ROWS:
            bulk.insert_rows(self.session, model, rows)
            return
        columns = tuple(rows[0])
        for first in range(0, len(rows), ROWS_PER_INSERT):
            chunk = rows[first : first + ROWS_PER_INSERT]
            sql = _insert_sql(model.__tablename__, columns, len(chunk))
            self._queued.append((sql, [_adapted(row[c]) for row in chunk for c in columns]))

    def update(self, model: type[Base], rows: bulk.Rows) -> None:
        """UPDATE rows by their "id", each row with the same keys."""
        if not rows:
            return
        if not self.postgres:
            bulk.update_by_id(self.session, model, rows)
            return
        statement, params = bulk.update_from_arrays(self.session, model, rows)
        self.execute(statement, params)

    def execute(self, statement: TextClause, params: dict[str, Any]) -> Result:
        """Queue `statement`; the returned function gives its rows once committed."""
        if not self.postgres:
            rows = [tuple(row) for row in self.session.execute(statement, params)]
            return lambda: rows
        sql, constants = bulk.for_psycopg(statement, self.session.get_bind().dialect)
        self._queued.append((sql, {**constants, **params}))
        slot = len(self._cursors) + len(self._queued) - 1
        return lambda: self._cursors[slot].fetchall()

    def commit(self) -> None:
        """PostgreSQL: send what is queued and COMMIT, in one round trip."""
        if self.postgres:
            self.send(commit=True)

    def send(self, commit: bool = False) -> None:
        """Send what is queued, in one round trip (with COMMIT if `commit`)."""
        if not self.postgres:
            return
        self.session.flush()  # the ORM's pending changes belong to this transaction too
        connection = bulk.raw(self.session)
        with bulk.as_sqlalchemy_errors(), connection.pipeline():
            for sql, params in self._queued:
                self._cursors.append(connection.cursor().execute(sql, params))
            self._queued.clear()
            if commit:
                connection.commit()


@functools.cache
def _insert_sql(table: str, columns: tuple[str, ...], count: int) -> str:
    row = f"({', '.join(['%s'] * len(columns))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * count)}"


def _adapted(value: Any) -> Any:
    """psycopg sends a dict only when told it is JSON."""
    return Json(value) if isinstance(value, dict) else value
