"""/audit-events: the audit trail, newest first (SPEC §19); administrators only."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from recur.api import presenters as present
from recur.api.deps import Admin, Ctx
from recur.api.errors import ApiRoute, documented
from recur.api.params import Cursor, IdQuery, Limit
from recur.api.schemas import AuditEventOut, ListOut
from recur.domain.audit import AuditFilter
from recur.services import audit

router = APIRouter(tags=["audit"], route_class=ApiRoute)

Text = Annotated[str | None, Query(max_length=200)]
Day = Annotated[date | None, Query(description="A day (UTC), included")]


@router.get(
    "/audit-events",
    summary="List audit events",
    operation_id="list_audit_events",
    response_model=ListOut[AuditEventOut],
    responses=documented(403),
)
def list_audit_events(
    ctx: Ctx,
    _admin: Admin,
    subject_type: Annotated[
        str | None, Query(max_length=32, description="`account`, `invoice`…")
    ] = None,
    subject_id: IdQuery = None,
    actor: Text = None,
    action: Text = None,
    from_: Annotated[Day, Query(alias="from")] = None,
    to: Day = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Every state change, newest first: who made it (`actor`), through which door
    (`api`, `web`, `cli` or `scheduler`), what it did (`action`) to which subject, with
    its details. Filters combine; `from` and `to` are days (UTC), both included.
    Administrators only: events name users and the addresses they signed in from."""
    where = AuditFilter(subject_type, subject_id, actor, action, from_, to)
    return present.page(audit.audit_events(ctx.db, where, limit, cursor), present.audit_event)
