"""The end of an issuing transaction: its last writes and its COMMIT in one round trip.

Issuing ends by taking invoice numbers, and the year's sequence row stays locked
until COMMIT: every issuer of the year queues on it. Sent one by one, the last
writes and the COMMIT cost a round trip each, and under load each answer also waits
for its thread to get Python's GIL back while the row is held. On PostgreSQL they
go in one psycopg pipeline that ends with COMMIT, so the lock lasts as long as
PostgreSQL needs and no longer. On SQLite (one writer at a time) each runs when it
is queued and the unit of work commits as usual.
"""

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


class FinalWrites:
    """Writes queued to go with the transaction's COMMIT (see the module docstring).

    `commit` ends the transaction on PostgreSQL: nothing may follow it.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = bulk.is_postgres(session)
        self._queued: list[tuple[str, list[Any] | dict[str, Any], bool]] = []
        self._cursors: list[psycopg.Cursor[Any]] = []

    def insert(self, model: type[Base], rows: bulk.Rows) -> None:
        """INSERT rows that all have the same keys (a large batch goes by COPY, now)."""
        if not rows:
            return
        if not self.postgres or len(rows) >= COPY_FROM_ROWS:
            bulk.insert_rows(self.session, model, rows)
            return
        columns = list(rows[0])
        listed, placeholders = ", ".join(columns), ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {model.__tablename__} ({listed}) VALUES ({placeholders})"
        self._queued.append((sql, [[_adapted(row[c]) for c in columns] for row in rows], True))

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
        self._queued.append((sql, {**constants, **params}, False))
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
            for sql, params, many in self._queued:
                cursor = connection.cursor()
                if many:
                    cursor.executemany(sql, params)
                else:
                    cursor.execute(sql, params)
                self._cursors.append(cursor)
            self._queued.clear()
            if commit:
                connection.commit()


def _adapted(value: Any) -> Any:
    """psycopg sends a dict only when told it is JSON."""
    return Json(value) if isinstance(value, dict) else value
