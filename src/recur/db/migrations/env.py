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
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
