"""The rows of Core SELECTs on the API's hottest paths, without SQLAlchemy's execution.

A preview or a manual generation runs a handful of small statements, and on
PostgreSQL SQLAlchemy's execution (cache key, execution context, result wrapping)
cost several times what psycopg itself spends on each: each statement is compiled
once for psycopg and its rows fetched directly, as named tuples, in the session's
own transaction, several statements in one round trip. SQLite keeps SQLAlchemy's
execution, which converts its dates and decimals. A statement run here must not
use expanding parameters (IN lists): on PostgreSQL, pass an array to `= ANY(…)`
instead (see `any_ids`).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Dialect, Select, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from recur.db import driver

Query = tuple[Select[Any], Mapping[str, Any]]


def fetch_rows(session: Session, *queries: Query) -> list[Sequence[Any]]:
    """All rows of each query, each row with its columns by position and by name.

    On PostgreSQL the queries (and the transaction's BEGIN, if they are its first)
    go in one round trip, a psycopg pipeline, and run in their order.
    """
    if not driver.is_postgres(session):
        return [session.connection().execute(query, params).all() for query, params in queries]
    statements = for_psycopg(queries, session.get_bind().dialect)
    with driver.connection_of(session) as connection:
        return list(driver.fetch_pipelined(connection, statements))


def for_psycopg(queries: Sequence[Query], dialect: Dialect) -> list[tuple[str, dict[str, Any]]]:
    """Each query as psycopg runs it: its SQL (compiled once) and all its parameters."""
    compiled = [(driver.for_psycopg(query, dialect), params) for query, params in queries]
    return [(sql, {**constants, **params}) for (sql, constants), params in compiled]


def any_ids(column: InstrumentedAttribute[int], name: str) -> ColumnElement[bool]:
    """`column = ANY(:name)`, :name an array of ids (PostgreSQL)."""
    return column == any_(bindparam(name, type_=ARRAY(BigInteger)))
