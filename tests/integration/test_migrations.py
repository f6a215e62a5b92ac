"""The migrations build exactly the schema the models declare, on both backends."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from recur.db.models import Base
from recur.db.session import Database


def test_the_migrated_schema_is_the_models_schema(db: Database) -> None:
    dialect = db.engine.dialect.name

    def declared_here(thing: Any, _name: Any, kind: str, _reflected: bool, _other: Any) -> bool:
        # The trigram indexes are PostgreSQL's only (`ddl_if`).
        ddl_if = getattr(thing, "_ddl_if", None) if kind == "index" else None
        return ddl_if is None or ddl_if.dialect in (None, dialect)

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": declared_here})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
