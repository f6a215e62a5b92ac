"""The back office's pages, one module per area of the navigation."""

from fastapi import APIRouter

from recur.web.routes import (
    accounts,
    audit,
    dashboard,
    delivery,
    invoices,
    payments,
    products,
    runs,
    search,
    seller,
    session,
    statements,
    subscriptions,
    tokens,
    usage,
    users,
)

router = APIRouter(include_in_schema=False)
for module in (
    session,
    accounts,
    subscriptions,
    invoices,
    payments,
    products,
    runs,
    usage,
    users,
    tokens,
):
    router.include_router(module.router)
router.include_router(delivery.router)
router.include_router(seller.router)
router.include_router(dashboard.router)
router.include_router(audit.router)
router.include_router(statements.router)
router.include_router(search.router)
