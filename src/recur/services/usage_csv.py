"""Usage records in a CSV file (the back office's upload, `recur usage import`):
columns id, subscription_id, meter, quantity, occurred_on, in any order, a header first.
Rows are read as they stream in; each is checked by the same rules as the API's records."""

import csv
from collections.abc import Iterable, Iterator

from recur.domain.errors import InvalidInput
from recur.services.usage_input import FIELDS


def csv_records(lines: Iterable[str]) -> Iterator[dict[str, str]]:
    """The rows of a CSV file of usage records, after its header is checked."""
    reader = csv.DictReader(iter(lines))
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [name for name in FIELDS if name not in header]
    if missing:
        raise InvalidInput(
            "invalid_csv",
            f"the file's first line must name the columns {', '.join(FIELDS)} "
            f"(missing: {', '.join(missing)})",
        )
    reader.fieldnames = header
    for row in reader:
        yield {name: (row.get(name) or "") for name in FIELDS}


def file_line(index: int) -> str:
    """Where the record at `index` is in its file: the header is line 1."""
    return f"line {index + 2}"
