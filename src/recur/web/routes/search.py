"""Search: the top bar's box, finding accounts, invoices and subscriptions at once."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from recur.domain.errors import InvalidInput
from recur.domain.users import User
from recur.services import search as searching
from recur.services.subscriptions import effective_status
from recur.web.auth import ctx, viewer
from recur.web.forms import sentence
from recur.web.templating import render

router = APIRouter()


@router.get("/search")
def search_page(request: Request, q: str = "", user: User = Depends(viewer)) -> Response:
    try:
        found = searching.search(ctx(request).db, q)
    except InvalidInput as error:  # an empty or overlong search: say so on the page
        return render(
            request, "search.html", found=None, search_text=q, error=sentence(error.message)
        )
    return render(
        request, "search.html", found=found, search_text=found.text, status_of=effective_status
    )
