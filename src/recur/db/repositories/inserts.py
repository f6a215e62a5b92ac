"""`INSERT … ON CONFLICT DO NOTHING`, in the dialect of the session's database."""

from typing import Any

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
    result = session.execute(insert(model).values(rows).on_conflict_do_nothing())
    return int(result.rowcount)  # type: ignore[attr-defined]
