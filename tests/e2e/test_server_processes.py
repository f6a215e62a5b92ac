"""`recur serve --workers N`: N processes, each on a listening socket of its own
(SO_REUSEPORT, so that the kernel spreads connections), supervised by the parent."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from recur.db.migrate import upgrade

from .conftest import _free_port

T = TypeVar("T")
RECUR = str(Path(sys.executable).parent / "recur")


def eventually(probe: Callable[[], T | None], what: str, seconds: float = 30) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def listening_sockets(port: int) -> set[str]:
    """Inodes of the sockets listening on `port` (TCP over IPv4, state 0A)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
            found.add(fields[9])
    return found


def sockets_of(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def servers(parent: int, port: int) -> dict[int, set[str]]:
    """The parent's child processes that listen on `port`, with their listening sockets."""
    children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True)
    listening = listening_sockets(port)
    found = {}
    for pid in map(int, children.stdout.split()):
        try:
            mine = sockets_of(pid) & listening
        except FileNotFoundError:
            continue
        if mine:
            found[pid] = mine
    return found


def ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_each_server_process_listens_on_its_own_socket_and_a_dead_one_is_replaced(
    postgres_url: str,
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RECUR_DATABASE_URL": postgres_url, "RECUR_SCHEDULER": "off"}
    command = [RECUR, "serve", "--workers", "2", "--port", str(port)]
    parent = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        first = eventually(lambda: (s := servers(parent.pid, port)) and len(s) == 2 and s, "2")
        # Two processes, two distinct listening sockets on the one port.
        assert len(set.union(*first.values())) == 2
        eventually(lambda: ready(base), "/readyz")
        assert all(ready(base) for _ in range(20))

        # A second server on the port is refused, not let in to split the clients.
        second_server = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert second_server.returncode != 0
        assert f"cannot listen on 127.0.0.1:{port}" in second_server.stderr
        assert servers(parent.pid, port) == first

        killed = next(iter(first))
        os.kill(killed, signal.SIGKILL)
        second = eventually(
            lambda: (s := servers(parent.pid, port)) and len(s) == 2 and killed not in s and s,
            "a replacement process",
        )
        assert len(set.union(*second.values())) == 2
        eventually(lambda: ready(base), "/readyz after the replacement")

        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 0
        assert servers(parent.pid, port) == {}
        assert listening_sockets(port) == set()
    finally:
        if parent.poll() is None:
            parent.kill()


def schedules_started(log: Path) -> list[int | None]:
    """The pids of the processes that started a billing schedule, from their log."""
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [e.get("pid") for e in entries if e["message"] == "billing schedule started"]


def test_of_several_server_processes_one_runs_the_billing_schedule(
    postgres_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "RECUR_DATABASE_URL": postgres_url,
        "RECUR_SCHEDULER": "on",
        "RECUR_BILLING_INTERVAL": "3600",
    }
    with log.open("w") as stderr:
        parent = subprocess.Popen(
            [RECUR, "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stderr=stderr,
            start_new_session=True,  # so that a failed test stops the servers too
        )
    try:
        first = eventually(lambda: (s := servers(parent.pid, port)) and len(s) == 2 and s, "2")
        eventually(lambda: ready(f"http://127.0.0.1:{port}"), "/readyz")
        (scheduler,) = schedules_started(log)
        assert scheduler in first
        # The process that runs it dies: its replacement alone takes the schedule over.
        os.kill(scheduler, signal.SIGKILL)
        eventually(lambda: len(schedules_started(log)) == 2, "the schedule in the replacement")
        eventually(lambda: (s := servers(parent.pid, port)) and len(s) == 2 and s, "2 again")
        time.sleep(1)
        assert len(schedules_started(log)) == 2
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 0
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)


def test_several_server_processes_are_refused_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'recur.sqlite3'}"
    upgrade(url)
    env = {**os.environ, "RECUR_DATABASE_URL": url, "RECUR_SCHEDULER": "off"}
    command = [RECUR, "serve", "--workers", "2", "--port", str(_free_port())]
    server = subprocess.Popen(
        command, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _, stderr = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    assert server.returncode == 2
    assert "several server processes need PostgreSQL" in " ".join(stderr.split())
