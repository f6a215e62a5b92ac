"""Alembic environment: the URL comes from the caller (recur db upgrade), never a file."""

from alembic import context
from sqlalchemy import pool

from recur.db.models import Base
from recur.db.session import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
if url is None:
    raise RuntimeError("migrations need sqlalchemy.url set by recur.db.migrate")

engine = make_engine(url, poolclass=pool.NullPool)
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a table by copying it (batch mode): dropping the original would
        # fail the foreign keys that point at it, so they are off (outside any
        # transaction, where SQLite allows it) and checked at the end instead.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
            raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
engine.dispose()
