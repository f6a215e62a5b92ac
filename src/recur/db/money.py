"""The column type of every money, price and rate column: exact on both databases.

PostgreSQL stores NUMERIC(precision, places) exactly. SQLite has no exact decimal
type: a NUMERIC column keeps its values as binary reals, so sum(amount) over
33.36 + 33.36 + 33.35 is not 100.07. There the same column is an INTEGER holding
the value × 10^places, which SQLite stores and adds exactly in 64 bits; SUM, MIN,
MAX and comparisons keep the column's type, so their results come back through the
same conversion as exact Decimals. PostgreSQL keeps plain NUMERIC, with no Python
conversion on its hot paths (COPY and psycopg reads see the same values as before).
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, Dialect, Numeric, TypeDecorator
from sqlalchemy.types import TypeEngine

# What SQLite's 64-bit INTEGER holds, so what a scaled column can hold there.
SQLITE_INTEGER_MAX = 2**63 - 1


class ScaledInteger(TypeDecorator[Decimal]):
    """A Decimal with a fixed number of places, stored as an integer count of 10^-places."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        # Rounded half away from zero to the column's places, as PostgreSQL's NUMERIC does.
        units = int(Decimal(value).scaleb(self.places).to_integral_value(ROUND_HALF_UP))
        if abs(units) > SQLITE_INTEGER_MAX:
            raise ValueError(f"{value} does not fit a column of {self.places} places")
        return units

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).scaleb(-self.places)


def Money(places: int, precision: int = 19) -> TypeEngine[Decimal]:  # noqa: N802 (a type)
    """NUMERIC(precision, places) on PostgreSQL, a scaled INTEGER on SQLite."""
    return Numeric(precision, places).with_variant(ScaledInteger(places), "sqlite")
