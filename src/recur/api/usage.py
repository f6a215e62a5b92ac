"""/usage: usage records in batches, and a subscription's records (SPEC §13, §16)."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StrictFloat, StrictInt, StrictStr

from recur.api import presenters as present
from recur.api.deps import Caller, Ctx, Today
from recur.api.errors import ApiRoute, documented
from recur.api.idempotency import IdempotencyKey, respond
from recur.api.params import Cursor, IdPath, Limit
from recur.api.schemas import Input, ListOut, NotEmpty
from recur.domain.usage import UsageRecord, quantity_text
from recur.services import usage
from recur.services.usage_input import MAX_BATCH

router = APIRouter(tags=["usage"], route_class=ApiRoute)


class UsageRecordIn(Input):
    """A record as sent; the service reads and checks each field, so that a refusal
    names the record (its index and id)."""

    id: Annotated[StrictStr, NotEmpty] = Field(
        description="The sender's own id, unique across all records (≤ 100)"
    )
    subscription_id: StrictInt
    meter: Annotated[StrictStr, NotEmpty] = Field(
        description="A meter code of the subscription's pricing option"
    )
    quantity: StrictStr | StrictInt | StrictFloat = Field(
        description='A decimal ≥ 0 with up to 6 places, as a string ("120.5"); '
        "a JSON number is accepted too",
        examples=["120.5"],
    )
    occurred_on: date = Field(description="A day in service, not after today")


class UsageBatchIn(Input):
    records: list[UsageRecordIn] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=f"1–{MAX_BATCH:,} records, accepted or refused whole",
    )


class UsageBatchOut(BaseModel):
    accepted: int = Field(description="Records stored by this batch")
    duplicates: int = Field(description="Records sent before with the same content (unchanged)")


class UsageRecordOut(BaseModel):
    id: str
    subscription_id: int
    meter: str
    unit: str
    quantity: str = Field(description="A decimal string", examples=["120.5"])
    occurred_on: date
    received_on: date
    invoice_id: int | None = Field(description="The invoice that billed it (null until billed)")


@router.post(
    "/usage",
    operation_id="ingest_usage",
    status_code=201,
    response_model=UsageBatchOut,
    responses=documented(403, 404, 409),
    summary="Send a batch of usage records",
    description="Accepted or refused whole: an unknown subscription is a 404; a meter not "
    "on the subscription's option, a day out of service or after today, a negative or "
    "malformed quantity a 422; an id already sent with other content a 409. The error "
    "names the first offending record (`records[i]` and its id). A record sent again "
    "unchanged is counted in `duplicates` and changes nothing.",
)
def ingest_usage(
    body: UsageBatchIn,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    today: Today,
    key: IdempotencyKey = None,
) -> Response:
    def produce() -> UsageBatchOut:
        records = [r.model_dump() for r in body.records]
        result = usage.ingest(ctx.db, records, today, caller.actor)
        return UsageBatchOut(accepted=result.accepted, duplicates=result.duplicates)

    return respond(ctx, request, caller, key, body, 201, produce)


@router.get(
    "/subscriptions/{subscription_id}/usage",
    operation_id="list_usage",
    response_model=ListOut[UsageRecordOut],
    responses=documented(404),
    summary="A subscription's usage records",
)
def list_usage(
    subscription_id: IdPath,
    ctx: Ctx,
    from_: Annotated[date | None, Query(alias="from", description="Inclusive")] = None,
    to: Annotated[date | None, Query(description="Inclusive")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """A subscription's usage records, a page at a time; `from` and `to` bound the
    day they occurred."""
    page = usage.list_usage(ctx.db, subscription_id, from_, to, limit, cursor)
    return present.page(page, _record)


def _record(record: UsageRecord) -> UsageRecordOut:
    return UsageRecordOut(
        id=record.id,
        subscription_id=record.subscription_id,
        meter=record.meter,
        unit=record.unit,
        quantity=quantity_text(record.quantity),
        occurred_on=record.occurred_on,
        received_on=record.received_on,
        invoice_id=record.invoice_id,
    )
