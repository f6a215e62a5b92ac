"""A server process runs at most RECUR_SERVER_THREADS sync requests at once."""

from anyio import to_thread
from fastapi.testclient import TestClient

from tests.api.conftest import ADMIN_TOKEN, bearer, make_app


async def _threads_for_sync_requests() -> float:
    return to_thread.current_default_thread_limiter().total_tokens


def test_the_thread_pool_has_the_configured_size(sqlite_url: str) -> None:
    for threads in (2, 3):
        app = make_app(sqlite_url, server_threads=threads)
        with TestClient(app, headers=bearer(ADMIN_TOKEN)) as client:
            assert client.portal is not None
            assert client.portal.call(_threads_for_sync_requests) == threads
            assert client.get("/api/v1/accounts").status_code == 200  # still answers


def test_by_default_one_process_runs_eight_sync_requests_at_once(sqlite_url: str) -> None:
    """The default deployment (one process) serves pages and PDFs side by side;
    `recur serve --workers N` sets one per process (server_processes.py)."""
    with TestClient(make_app(sqlite_url)) as client:
        assert client.portal is not None
        assert client.portal.call(_threads_for_sync_requests) == 8
