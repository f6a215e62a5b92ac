"""Path and query parameters shared by the routers."""

from datetime import date
from typing import Annotated

from fastapi import Path, Query

from recur.services.validation import MAX_ID

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size (1–100)")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page")
]
AsOf = Annotated[
    date | None,
    Query(description="The preview's date (default: today)"),
]
