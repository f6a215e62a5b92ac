"""The embedded database and its directory are readable by their owner only."""

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from recur.db.session import Database
from recur.settings import Settings


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default umask, which leaves new files readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_wal_files_are_the_owners_only(
    tmp_path: Path, open_umask: None
) -> None:
    path = tmp_path / "recur.sqlite3"
    db = Database(f"sqlite:///{path}")
    with db.transaction() as session:  # WAL mode: creates -wal and -shm beside it
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
    files = [path, tmp_path / "recur.sqlite3-wal", tmp_path / "recur.sqlite3-shm"]
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    db.dispose()


def test_an_older_database_file_is_narrowed_to_its_owner(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "recur.sqlite3"
    path.touch(mode=0o644)
    wal = tmp_path / "recur.sqlite3-wal"
    wal.touch(mode=0o644)
    Database(f"sqlite:///{path}").dispose()
    assert (mode(path), mode(wal)) == (0o600, 0o600)


def test_the_default_database_lives_in_a_directory_of_the_owners_only(
    tmp_path: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("RECUR_DATABASE_URL", raising=False)
    settings = Settings(secret_key="s" * 32)
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'recur' / 'recur.sqlite3'}"
    db = Database(settings.database_url)
    with db.transaction() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    folder = tmp_path / "data" / "recur"
    assert mode(folder) == 0o700
    assert mode(folder / "recur.sqlite3") == 0o600
    db.dispose()


def test_a_second_engine_keeps_the_locks_of_the_first(tmp_path: Path) -> None:
    """A server that makes another engine on its database while its connections are
    open must keep their locks: otherwise another process (a CLI command) closing its
    own connection believes it is the last, checkpoints and deletes the WAL under them,
    and the server reads "database disk image is malformed"."""
    database = tmp_path / "recur.sqlite3"
    url = f"sqlite:///{database}"
    first = Database(url)
    with first.transaction() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    with first.read() as session:
        session.execute(text("SELECT count(*) FROM t")).scalar_one()
        second = Database(url)  # as a worker or the loop's reads make theirs
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
                " c.execute('SELECT count(*) FROM t').fetchall(); c.close()",
                str(database),
            ],
            check=True,
        )
        assert database.with_name("recur.sqlite3-wal").exists()
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    second.dispose()
    first.dispose()
