"""The web application: REST API under /api/v1 and the back office, on one server."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from recur.api.docs import install_docs
from recur.api.openapi import PUBLIC, SERVERS, TAGS, install_openapi
from recur.api.schemas import StatusOut
from recur.context import AppContext, context_from_settings
from recur.db.migrate import is_current
from recur.db.session import is_sqlite
from recur.delivery_worker import DeliveryWorker
from recur.domain.roles import Role
from recur.http_guards import HttpGuards
from recur.request_door import DoorOfRequest
from recur.scheduler import BillingSchedule
from recur.services import metrics
from recur.services.tokens import ENV_TOKEN_NAME, ensure_token
from recur.settings import Settings

log = logging.getLogger("recur.app")

DESCRIPTION = """Subscription billing: catalogue, accounts, subscriptions, pending invoices,
manual and automatic generation. Every `/api/v1` route needs `Authorization: Bearer TOKEN`
(`recur token create`); errors answer `{"error": {"code", "message"}}`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    ctx: AppContext = context_from_settings(settings)
    app = FastAPI(
        title="Recur",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,  # api/docs.py serves it, from local files
        redoc_url=None,  # ReDoc needs inline styles, which the CSP refuses
        openapi_url="/openapi.json",
        openapi_tags=TAGS,
        servers=SERVERS,
        lifespan=_lifespan,
    )
    app.state.ctx = ctx
    _install_health(app)
    install_docs(app)
    install_openapi(app)

    from recur.api import install as install_api
    from recur.api import install_http_errors
    from recur.web import install as install_web

    install_api(app)
    install_web(app)
    install_http_errors(app)
    app.add_middleware(DoorOfRequest)
    app.add_middleware(
        HttpGuards,
        max_body_bytes=ctx.settings.max_body_bytes,
        max_upload_bytes=ctx.settings.max_upload_bytes,
    )
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    ctx: AppContext = app.state.ctx
    to_thread.current_default_thread_limiter().total_tokens = ctx.settings.server_threads
    _ensure_env_token(ctx)
    if ctx.settings.warm_figures:
        _warm_figures(ctx)
    schedule: BillingSchedule | None = None
    delivery: DeliveryWorker | None = None
    if ctx.settings.scheduler.lower() not in ("off", "0", "false", "no"):
        schedule = BillingSchedule(ctx.db, ctx.clock, ctx.settings.billing_interval)
        schedule.start()
        delivery = DeliveryWorker(ctx.db, ctx.settings)
        delivery.start()
    # PostgreSQL: hear revocations, so that live tokens need no read per request.
    watch = (
        None if is_sqlite(ctx.db.engine) else asyncio.create_task(ctx.tokens.watch(ctx.loop_reads))
    )
    try:
        yield
    finally:
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        if schedule is not None:
            schedule.shutdown()
        if delivery is not None:
            delivery.shutdown()
        await ctx.loop_reads.close()
        ctx.db.dispose()


def _ensure_env_token(ctx: AppContext) -> None:
    """RECUR_API_TOKEN becomes (or refreshes) the admin token named "env"."""
    if not ctx.settings.api_token:
        return
    try:
        ensure_token(ctx.db, ENV_TOKEN_NAME, ctx.settings.api_token, Role.ADMIN, "system")
    except Exception:  # e.g. the schema is not migrated yet: /readyz says so
        log.exception("could not register RECUR_API_TOKEN")


def _warm_figures(ctx: AppContext) -> None:
    """Every currency's dashboard figures set computing in a child process."""
    try:
        metrics.warm(ctx.db, ctx.clock.today())
    except Exception:  # e.g. the schema is not migrated yet: the first view starts them
        log.exception("could not start computing the dashboard figures")


def _install_health(app: FastAPI) -> None:
    @app.get(
        "/healthz",
        tags=["health"],
        response_model=StatusOut,
        summary="Liveness",
        operation_id="healthz",
        openapi_extra=PUBLIC,
    )
    async def healthz() -> StatusOut:
        """The process is up."""
        # On the event loop: it must not wait behind the thread pool.
        return StatusOut(status="ok")

    @app.get(
        "/readyz",
        tags=["health"],
        response_model=StatusOut,
        summary="Readiness",
        operation_id="readyz",
        openapi_extra=PUBLIC,
        responses={503: {"model": StatusOut, "description": "Not ready"}},
    )
    def readyz() -> JSONResponse:
        """The database answers and its schema is the newest migration."""
        ctx: AppContext = app.state.ctx
        try:
            with ctx.db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            current = is_current(ctx.db.engine)
        except Exception:
            log.warning("readiness check failed", exc_info=True)
            return JSONResponse({"status": "database_unavailable"}, status_code=503)
        if not current:
            return JSONResponse({"status": "migrations_pending"}, status_code=503)
        return JSONResponse({"status": "ok"})
