"""REST API (JSON) under /api/v1: thin routers over the services."""

from fastapi import APIRouter, Depends, FastAPI

from recur.api import (
    accounts,
    audit,
    billing_runs,
    changes,
    delivery,
    invoices,
    metrics,
    payments,
    products,
    search,
    seller,
    subscriptions,
    test_clock,
    usage,
)
from recur.api.deps import get_principal
from recur.api.errors import install_http_errors
from recur.clock import TestClock
from recur.context import AppContext

PREFIX = "/api/v1"

__all__ = ["PREFIX", "install", "install_http_errors"]


def install(app: FastAPI) -> None:
    """Mount the API routers on the application; every route needs a bearer token."""
    ctx: AppContext = app.state.ctx
    api = APIRouter(prefix=PREFIX, dependencies=[Depends(get_principal)])
    for module in (
        products,
        accounts,
        subscriptions,
        changes,
        invoices,
        billing_runs,
        usage,
        payments,
        search,
    ):
        api.include_router(module.router)
    api.include_router(delivery.router)
    api.include_router(seller.router)
    api.include_router(metrics.router)
    api.include_router(audit.router)
    if isinstance(ctx.clock, TestClock):
        api.include_router(test_clock.router)
    app.include_router(api)
