"""Nothing blocks the event loop: every route of the app, read and checked.

An `async def` route or dependency runs on the event loop, and any synchronous work
it does (a database query, password hashing, a PDF) holds every other request of the
process meanwhile. Two checks: every async callable of every route is in a short list
of callables known to only await; and every route, requested, runs no database query
on the event loop's thread, nor long work there (measured in the loop thread's CPU
time, which other processes on a busy machine do not inflate, as they do wall time).
"""

import asyncio
import inspect
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import event

from recur.context import AppContext
from recur.domain.roles import Role
from recur.services.tokens import create_token

# Async callables that only await (reads on the loop, the thread pool, the body):
# each was read and found never to call synchronous I/O or heavy work itself.
LOOP_SAFE = {
    "recur.api.deps.get_ctx",
    "recur.api.deps.get_today",
    "recur.api.deps.get_principal",  # db/loop_reads.py, else the token table in a thread
    "recur.api.deps.require_admin",
    "recur.api.accounts.account_pending",  # db/loop_reads.py; large previews in a thread
    "recur.api.invoices.invoice_pdf",  # reads and renders in the thread pool
    "recur.api.delivery.account_statement",  # the same
    "recur.web.routes.statements.statement_pdf",  # the same
    "recur.web.auth.check_csrf",  # awaits the form
    "recur.web.posted.posted_form",
    "fastapi.security.http.HTTPBearer",
    "recur.app._install_health.<locals>.healthz",  # answers at once, never behind the pool
}
# The loop thread's CPU time between two ticks beyond which it was blocked.
MAX_BUSY = 0.1


def routes_of(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, through included routers (nested objects in newer FastAPI)."""
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from routes_of(nested.routes)
        elif isinstance(route, APIRoute):
            yield route


def calls_of(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from calls_of(sub)


def async_name(call: Callable[..., Any]) -> str | None:
    """The qualified name of `call` if it runs on the loop (a coroutine function)."""
    if inspect.iscoroutinefunction(call):
        return f"{call.__module__}.{call.__qualname__}"
    if inspect.isroutine(call):
        return None
    if inspect.iscoroutinefunction(type(call).__call__):  # an instance, e.g. HTTPBearer
        return f"{type(call).__module__}.{type(call).__qualname__}"
    return None


def test_every_async_callable_of_every_route_is_known_to_only_await(
    app_client: TestClient,
) -> None:
    app = app_client.app
    assert isinstance(app, FastAPI)
    found = {
        name
        for route in routes_of(app.router.routes)
        for call in calls_of(route.dependant)
        if (name := async_name(call)) is not None
    }
    assert "recur.api.accounts.account_pending" in found  # the walk sees the API too
    assert found - LOOP_SAFE == set()


class LoopWatch:
    """Database queries run on the event loop's thread, and the loop's longest busy spell."""

    def __init__(self) -> None:
        self.queries_on_loop = 0
        self.busy = 0.0

    def on_query(self, *_: Any) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # a worker thread: the loop goes on meanwhile
        self.queries_on_loop += 1

    async def tick(self) -> None:
        while True:
            started = time.thread_time()  # the CPU time of this thread: the loop's
            await asyncio.sleep(0.005)
            self.busy = max(self.busy, time.thread_time() - started)


def _sample_path(route: APIRoute) -> str:
    return re.sub(r"\{[^}]+\}", "1", route.path)


def test_no_route_blocks_the_event_loop(admin: tuple[TestClient, str]) -> None:
    client, csrf = admin
    ctx: AppContext = client.app.state.ctx  # type: ignore[attr-defined]
    token = create_token(ctx.db, Role.ADMIN, "loop-watch", "test")[1]
    watch = LoopWatch()
    event.listen(ctx.db.engine, "before_cursor_execute", watch.on_query)
    assert client.portal is not None
    ticker = client.portal.start_task_soon(watch.tick)
    requests = sorted(
        {
            (method, _sample_path(route))
            for route in routes_of(client.app.router.routes)  # type: ignore[attr-defined]
            for method in route.methods
        },
        key=lambda request: (request[1] == "/logout", request),  # signing out last
    )
    blocked = []
    try:
        for method, path in requests:
            watch.queries_on_loop, watch.busy = 0, 0.0
            if path.startswith("/api/"):
                headers = {"Authorization": f"Bearer {token}"}
                client.request(method, path, headers=headers, json={} if method != "GET" else None)
            else:
                client.request(
                    method, path, data={"csrf_token": csrf} if method == "POST" else None
                )
            if watch.queries_on_loop or watch.busy > MAX_BUSY:
                blocked.append(
                    f"{method} {path}: {watch.queries_on_loop} queries on the loop, "
                    f"busy {watch.busy * 1000:.0f} ms at once"
                )
    finally:
        ticker.cancel()
        event.remove(ctx.db.engine, "before_cursor_execute", watch.on_query)
    assert len(requests) > 30
    assert blocked == []
