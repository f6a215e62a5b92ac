"""`recur serve`: one server process, or N, each listening on a socket of its own.

uvicorn's own workers share one listening socket, and the process that wakes first
accepts every connection waiting: sixteen keep-alive clients arriving together can
all land on one process while the others idle, and a process serves its requests
one Python thread at a time. Here each process binds its own socket with
SO_REUSEPORT, so that the kernel spreads new connections across the processes.
The parent only supervises: it restarts a process that dies and, on SIGTERM or
SIGINT, stops them all (each finishes its requests in flight, as uvicorn does).

Of N processes, the first alone runs the billing schedule (its replacement, if it
dies, takes it over): N schedules would start N runs at once. And each process runs
one sync request at a time unless RECUR_SERVER_THREADS says otherwise: with several
processes, more threads per process only hand Python's GIL to each other.
"""

import logging
import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("recur.server")


def serve_processes(host: str, port: int, workers: int) -> None:
    if workers == 1:
        _server(host=host, port=port).run()
        return
    _refuse_a_taken_port(host, port)
    spawn = multiprocessing.get_context("spawn")
    stopping = False

    def start(index: int) -> BaseProcess:
        runs_schedule = index == 0
        process = spawn.Process(
            target=serve_one, args=(host, port, runs_schedule), name=f"recur-server-{index}"
        )
        process.start()
        return process

    def stop(_signal: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    processes = [start(index) for index in range(workers)]
    log.info("serving", extra={"host": host, "port": port, "processes": workers})
    while not stopping:
        time.sleep(0.5)
        for i, process in enumerate(processes):
            if not process.is_alive() and not stopping:
                log.warning("server process died; starting another", extra={"pid": process.pid})
                processes[i] = start(i)
    for process in processes:
        process.terminate()  # SIGTERM: uvicorn shuts down gracefully
    for process in processes:
        process.join()


def serve_one(host: str, port: int, runs_schedule: bool) -> None:
    """One of several server processes, on its own SO_REUSEPORT socket."""
    from recur.logging_setup import configure_logging

    # Read by the app's settings, which this new process has not read yet.
    if not runs_schedule:
        os.environ["RECUR_SCHEDULER"] = "off"
    os.environ.setdefault("RECUR_SERVER_THREADS", "1")

    configure_logging()
    listening, address = _socket(host, port)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listening.bind(address)
    _server().run(sockets=[listening])


def _refuse_a_taken_port(host: str, port: int) -> None:
    """SO_REUSEPORT would let these processes join another server already on the port
    (of the same user) and split its clients: bind once without it, to fail as one
    server would."""
    probe, address = _socket(host, port)
    with probe:
        try:
            probe.bind(address)
        except OSError as error:
            raise SystemExit(f"cannot listen on {host}:{port}: {error.strerror}") from error


def _socket(host: str, port: int) -> tuple[socket.socket, Any]:
    """A TCP socket for `host` (its first address) and the address to bind."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    made = socket.socket(family, kind, proto)
    made.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return made, address


def _server(**where: Any) -> "uvicorn.Server":
    """The application's uvicorn server (`where`: host and port, if it binds them)."""
    import uvicorn

    # proxy_headers: from a proxy uvicorn trusts (FORWARDED_ALLOW_IPS, by default
    # 127.0.0.1), X-Forwarded-Proto and -For tell whether the client came over HTTPS
    # (the session cookie is then Secure) and its address (sign-in throttling).
    config = uvicorn.Config(
        "recur.app:create_app", factory=True, log_level="info", proxy_headers=True, **where
    )
    return uvicorn.Server(config)
