"""The rows of a Core SELECT on the API's hottest paths, without SQLAlchemy's execution.

A preview or a manual generation runs a handful of small statements, and on
PostgreSQL SQLAlchemy's execution (cache key, execution context, result wrapping)
cost several times what psycopg itself spends on each: the statement is compiled
once for psycopg and its rows fetched directly, as named tuples, in the session's
own transaction. SQLite keeps SQLAlchemy's execution, which converts its dates and
decimals. A statement run here must not use expanding parameters (IN lists): on
PostgreSQL, pass an array to `= ANY(…)` instead (see `any_ids`).
"""

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy import BigInteger, ColumnElement, Dialect, Select, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from recur.db import bulk


def fetch_rows(
    session: Session, statement: Select[Any], params: Mapping[str, Any]
) -> Sequence[Any]:
    """All rows of `statement`, each with its columns by position and by name."""
    if not bulk.is_postgres(session):
        return session.connection().execute(statement, params).all()
    sql, constants = _for_psycopg(statement, session.get_bind().dialect)
    with bulk.raw(session).cursor(row_factory=namedtuple_row) as cursor:
        return cursor.execute(sql, {**constants, **params}).fetchall()


def any_ids(column: InstrumentedAttribute[int], name: str) -> ColumnElement[bool]:
    """`column = ANY(:name)`, :name an array of ids (PostgreSQL)."""
    return column == any_(bindparam(name, type_=ARRAY(BigInteger)))


@functools.cache
def _for_psycopg(statement: Select[Any], dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """The statement's SQL, and the values of the parameters it holds itself."""
    compiled = statement.compile(dialect=dialect)
    return str(compiled), compiled.params
