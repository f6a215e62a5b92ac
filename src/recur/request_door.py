"""Which door a request comes in through: the API under /api, else the back office.

Set on the request's context before any route runs, so that the route, its
dependencies and the thread pool's sync endpoints (which run in a copy of it) all
see it, and the audit events it records say so (db/audit.py)."""

from starlette.types import ASGIApp, Receive, Scope, Send

from recur.db.audit import entered_by
from recur.domain.audit import Door


class DoorOfRequest:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        door = Door.API if scope["path"].startswith("/api/") else Door.WEB
        with entered_by(door):
            await self.app(scope, receive, send)
