"""A real server (uvicorn in a subprocess) on the SPEC §8 example, and headless Chromium."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from recur.db.migrate import upgrade
from recur.db.session import Database
from recur.services import users
from tests.web.acme import FAST_HASHER, Acme, seed_acme, seed_users

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class Server:
    base_url: str
    database_url: str
    acme: Acme


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited:\n{log.read_text()}")
        try:
            httpx.get(f"{url}/login", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    pytest.fail(f"the server did not start:\n{log.read_text()}")


@contextmanager
def serving(url: str, folder: Path, env: dict[str, str]) -> Iterator[str]:
    """uvicorn on `url`'s database with `env` (RECUR_* settings); yields its base URL."""
    port = _free_port()
    env = {**os.environ, "RECUR_DATABASE_URL": url, "RECUR_SCHEDULER": "off", **env}
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "recur.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def seed_users_quickly(db: Database) -> None:
    """The sign-ins of tests/web/acme.py, hashed at a test's cost."""
    production_hasher, users._hasher = users._hasher, FAST_HASHER
    try:
        seed_users(db)
    finally:
        users._hasher = production_hasher


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{folder / 'recur.sqlite3'}"
    upgrade(url)
    db = Database(url)
    acme = seed_acme(db)
    seed_users_quickly(db)
    db.dispose()
    env = {"RECUR_TODAY": "2027-01-15", "RECUR_SECRET_KEY": "e2e-secret"}
    with serving(url, folder, env) as base:
        yield Server(base, url, acme)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
