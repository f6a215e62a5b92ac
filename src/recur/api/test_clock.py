"""/test/clock: move today (only with RECUR_TEST_CLOCK=1; otherwise the route does not exist)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from recur.api.deps import Caller, Ctx
from recur.api.errors import ApiRoute, documented
from recur.api.idempotency import IdempotencyKey, respond
from recur.api.schemas import ClockIn, ClockOut
from recur.clock import TestClock

router = APIRouter(prefix="/test/clock", tags=["test clock"], route_class=ApiRoute)


@router.get(
    "",
    operation_id="get_test_clock",
    summary="Read the test clock",
    response_model=ClockOut,
    responses=documented(),
)
def read_clock(ctx: Ctx, caller: Caller) -> ClockOut:
    """Today, as the server sees it."""
    return ClockOut(today=ctx.clock.today())


@router.put(
    "",
    operation_id="set_test_clock",
    summary="Move the test clock",
    response_model=ClockOut,
    responses=documented(403),
)
def set_clock(
    body: ClockIn, request: Request, ctx: Ctx, caller: Caller, key: IdempotencyKey = None
) -> Response:
    """Set today (only on a server started with RECUR_TEST_CLOCK=1)."""
    clock = ctx.clock
    assert isinstance(clock, TestClock)  # the router is only mounted with a test clock

    def produce() -> ClockOut:
        clock.set(body.today)
        return ClockOut(today=clock.today())

    return respond(ctx, request, caller, key, body, 200, produce)
