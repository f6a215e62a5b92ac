"""`INSERT … ON CONFLICT DO NOTHING`, in the dialect of the session's database."""

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from recur.db.models import Base
from recur.db.session import is_sqlite


def insert_missing(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose primary key is not taken yet; how many were inserted. A
    key that a concurrent transaction is inserting waits for it (PostgreSQL), then
    counts as taken if it commits."""
    insert = sqlite_insert if is_sqlite(session) else postgres_insert
    # Counted from RETURNING: psycopg does not report a row count for this statement.
    keys = inspect(model).primary_key
    inserted = session.execute(insert(model).values(rows).on_conflict_do_nothing().returning(*keys))
    return len(inserted.all())
