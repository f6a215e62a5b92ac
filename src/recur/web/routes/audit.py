"""The audit trail's pages: an account's Activity tab and the global Audit log (admins).
Subscriptions' and invoices' pages show their activity too (audit/_activity.html)."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from recur.domain.audit import AuditEvent, AuditFilter
from recur.domain.errors import InvalidInput
from recur.domain.pages import Page
from recur.domain.users import User
from recur.services import accounts, audit
from recur.web.auth import admin, ctx, viewer
from recur.web.errors import found
from recur.web.params import PageId, date_or_none, id_filter
from recur.web.templating import render

router = APIRouter()

PAGE_SIZE = 50
ACTIVITY_ROWS = 20  # below a subscription's or an invoice's page


def recent_activity(request: Request, subject_type: str, subject_id: int) -> Page[AuditEvent]:
    """A subject's last events, for its page."""
    return audit.activity(ctx(request).db, subject_type, subject_id, limit=ACTIVITY_ROWS)


@router.get("/accounts/{account_id}/activity")
def account_activity(
    request: Request,
    account_id: PageId,
    cursor: str | None = None,
    user: User = Depends(viewer),
) -> Response:
    db = ctx(request).db
    account = found(accounts.get_account, db, account_id)
    page = audit.activity(db, "account", account_id, PAGE_SIZE, cursor or None)
    return render(request, "accounts/activity.html", account=account, section="activity", page=page)


@router.get("/audit")
def audit_log(request: Request, cursor: str | None = None, user: User = Depends(admin)) -> Response:
    values = {
        name: request.query_params.get(name) or None
        for name in ("subject_type", "subject_id", "actor", "action", "from", "to")
    }
    where = AuditFilter(
        subject_type=values["subject_type"],
        subject_id=id_filter(values["subject_id"]),
        actor=values["actor"],
        action=values["action"],
        occurred_from=date_or_none(values["from"]),
        occurred_to=date_or_none(values["to"]),
    )
    try:
        page = audit.audit_events(ctx(request).db, where, PAGE_SIZE, cursor or None)
    except InvalidInput as refusal:
        return render(
            request,
            "audit/log.html",
            status_code=422,
            page=None,
            values=values,
            error=refusal.message,
        )
    return render(request, "audit/log.html", page=page, values=values, error=None)
