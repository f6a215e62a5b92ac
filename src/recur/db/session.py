"""Engines, sessions and the unit of work: one transaction per use case.

SQLite: a single writer, so every write transaction starts with BEGIN IMMEDIATE
and takes the database's write lock before it reads what it will change.
PostgreSQL: READ COMMITTED with explicit row locks (see db/locks.py), and the
unit of work retries serialisation failures and deadlocks.
"""

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from recur.db import audit
from recur.db.final_writes import commit_final_writes

T = TypeVar("T")

_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
READ_ONLY = "recur_read_only"
# See _plan_once.
PLAN_ONCE = "SET plan_cache_mode = force_generic_plan"


def normalise_url(url: str) -> str:
    """Plain postgresql:// means the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        _keep_private(make_url(url).database)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _make_sqlite_transactional(engine)
        audit.watch_writes(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    _plan_once(engine)
    _ping_idle_connections(engine)
    audit.watch_writes(engine)
    return engine


def _plan_once(engine: Engine) -> None:
    """Plan a prepared statement once per connection, not at every run.

    psycopg prepares a statement at its fifth run on a connection. PostgreSQL then
    still re-plans it for each call's parameters whenever its rough estimate says a
    custom plan might pay, and for the reads and writes of a preview or a generation
    (a few ids, one account) it always says so: planning cost more CPU than running
    them. Recur's statements look rows up by key, so the generic plan is the plan.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(PLAN_ONCE)
        dbapi_connection.commit()  # a session setting: it outlives this transaction


PING_IF_IDLE_FOR = 5.0  # seconds


def _ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection before use only if it sat idle, when the server may
    have dropped it (a restart, an idle timeout). A connection in steady use is known
    good, and pinging it on every checkout would cost a round trip per transaction."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < PING_IF_IDLE_FOR:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool replaces the connection and tries again
            raise DisconnectionError(str(error)) from error


def _keep_private(database: str | None) -> None:
    """The embedded database holds every customer's data and the users' password hashes:
    its file is readable by its owner only. Created here with mode 0600 (or narrowed to
    it, if an older version made it); SQLite gives its -wal and -shm files the
    database file's mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        return  # SQLite says it cannot open the file
    # Created only if missing: closing a descriptor of a database file releases every
    # POSIX lock the process holds on it, so opening an existing file here (a second
    # engine in a server that is already using the database) would drop the locks of
    # its open connections, and another process could checkpoint and delete the WAL
    # under them ("database disk image is malformed").
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    for owned in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if owned.exists():
            owned.chmod(0o600)


def _make_sqlite_transactional(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front, so that what they read stays true
        # until they commit; readers share the database (WAL) and never wait.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def is_sqlite(session_or_engine: Session | Engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "sqlite"


class Database:
    """An engine and its session factory; the services' only way in."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        reader = self.engine.execution_options(**{READ_ONLY: True})
        self._read_sessions = sessionmaker(reader, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it does not take the write lock."""
        session = self._read_sessions()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work: commit on success (the final writes with it, see
        db/final_writes.py), roll back on any exception. Its audit events count for
        the action it runs in once committed (db/audit.py)."""
        session = self._sessions()
        audit.began()
        try:
            with session.begin():
                yield session
                commit_final_writes(session)
            audit.committed(session)
        finally:
            session.close()

    @contextmanager
    def dry_run(self) -> Iterator[Session]:
        """A unit of work that is always rolled back: what a change would do, shown
        before it is made, by the very code that makes it. Its final writes are never
        sent."""
        session = self._sessions()
        session.info[audit.DRY_RUN] = True
        try:
            yield session
        finally:
            session.info.clear()
            session.rollback()
            session.close()

    def run(self, work: Callable[[Session], T], attempts: int = 5) -> T:
        """Run `work` in one transaction, retrying it on serialisation failures and deadlocks."""
        for attempt in range(1, attempts + 1):
            try:
                with self.transaction() as session:
                    return work(session)
            except (DBAPIError, OperationalError) as error:
                if attempt == attempts or not _is_retryable(error):
                    raise
                time.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


def _is_retryable(error: DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error.orig)
