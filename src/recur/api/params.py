"""Path and query parameters shared by the routers."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Path, Query

from recur.api.openapi import file_response
from recur.services.validation import MAX_ID

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size (1–100)")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=1000,
        description="`next_cursor` (or `prev_cursor`) of a page of the same list in the same sort",
    ),
]
Sort = Annotated[
    str | None,
    Query(
        max_length=60,
        description="A field to sort by, `-` before it for descending (`name`, `-total`);"
        " ties are broken by id. An unknown field is refused (422 `invalid_sort`).",
    ),
]
AsOf = Annotated[
    date | None,
    Query(description="The preview's date (default: today)"),
]
Format = Annotated[
    Literal["json", "csv"],
    Query(
        description="`csv`: every row of the filtered, sorted list as a CSV download"
        " (`limit` and `cursor` are ignored)"
    ),
]


def csv_list(name: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of a list that `format=csv` also answers, as a file named for the list."""
    return {
        200: file_response(
            "text/csv",
            "A page of the list; with `format=csv`, every row of it as CSV",
            f'attachment; filename="{name}-2027-01-31.csv"',
            binary=False,
        )
    }
