"""Billing > Usage: upload a CSV file of usage records, see what it would do, store it.

The file is checked by the very rules of the API (services/usage.py) before anything is
stored: the page shows what would be accepted, duplicated or refused. The file waits on
the server under an unguessable token until *Store* sends that token back; storing it
checks it again, in the transaction that writes it, so nothing stale is ever stored.
"""

import re
import secrets
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from recur.domain.errors import DomainError
from recur.domain.users import User
from recur.services import usage
from recur.services.usage_csv import csv_records, file_line
from recur.web.auth import check_csrf, ctx, operator
from recur.web.forms import sentence
from recur.web.templating import flash, render

router = APIRouter()

UPLOADS = Path(tempfile.gettempdir()) / "recur-usage-uploads"
SHOWN_REFUSALS = 20
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


@router.get("/usage")
def usage_page(request: Request, user: User = Depends(operator)) -> Response:
    return render(request, "usage/upload.html", check=None, error=None)


@router.post("/usage/check", dependencies=[Depends(check_csrf)])
def usage_check(
    request: Request, file: UploadFile = File(...), user: User = Depends(operator)
) -> Response:
    token = secrets.token_urlsafe(16)
    UPLOADS.mkdir(mode=0o700, exist_ok=True)
    kept = UPLOADS / f"{token}.csv"
    with kept.open("wb") as copy:
        shutil.copyfileobj(file.file, copy)
    try:
        records = _records(kept)
        usage.check_size(len(records), None)
        check = usage.check_batch(ctx(request).db, records, ctx(request).clock.today())
    except DomainError as error:
        kept.unlink()
        return render(request, "usage/upload.html", 422, check=None, error=sentence(error.message))
    if check.refusals or not check.new:
        kept.unlink()  # nothing to store: no token to keep it for
        token = ""
    refusals = [
        (file_line(r.index), r.record_id, r.error.message) for r in check.refusals[:SHOWN_REFUSALS]
    ]
    return render(
        request,
        "usage/upload.html",
        check=check,
        refusals=refusals,
        token=token,
        filename=file.filename or "",
        error=None,
    )


@router.post("/usage/confirm", dependencies=[Depends(check_csrf)])
def usage_confirm(
    request: Request, token: str = Form(...), user: User = Depends(operator)
) -> Response:
    kept = UPLOADS / f"{token}.csv"
    if not _TOKEN.fullmatch(token) or not kept.exists():
        flash(request, "This upload has expired: upload the file again.")
        return RedirectResponse("/usage", status_code=303)
    try:
        done = usage.ingest(
            ctx(request).db,
            _records(kept),
            ctx(request).clock.today(),
            user.actor,
            max_records=None,
            where=file_line,
        )
    except DomainError as error:
        flash(request, f"Nothing was stored: {sentence(error.message)}")
    else:
        flash(request, f"Stored {done.accepted} usage records (duplicates: {done.duplicates}).")
    finally:
        kept.unlink(missing_ok=True)
    return RedirectResponse("/usage", status_code=303)


def _records(path: Path) -> list[dict[str, str]]:
    """The file's records, read row by row as the file streams in."""
    with path.open(encoding="utf-8-sig", newline="") as lines:
        return list(csv_records(lines))
