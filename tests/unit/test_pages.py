"""Sorts and keyset cursors (domain/pages.py): what a cursor carries comes back exactly,
and a damaged, old or foreign one is refused in words."""

import base64
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from recur.domain.errors import InvalidInput
from recur.domain.pages import Cursor, Sort, decode_cursor, encode_cursor, parse_sort

FIELDS = {"name", "total", "issue_date"}


def test_a_sort_is_a_field_of_the_whitelist_with_an_optional_minus() -> None:
    assert parse_sort("-total", FIELDS, "name") == Sort("total", descending=True)
    assert parse_sort(None, FIELDS, "-issue_date") == Sort("issue_date", descending=True)
    assert parse_sort("", FIELDS, "name").text == "name"
    with pytest.raises(InvalidInput) as refused:
        parse_sort("-password", FIELDS, "name")
    assert refused.value.code == "invalid_sort"
    assert "issue_date, name, total" in refused.value.message


@pytest.mark.parametrize(
    "value",
    [
        "Same Name",
        "",
        7,
        True,
        Decimal("10.5000"),
        Decimal("-0.0125"),
        date(2027, 1, 11),
        datetime(2027, 1, 11, 9, 30, 0, 123456, tzinfo=UTC),
        datetime(2027, 1, 11, 9, 30),
        None,
    ],
)
def test_a_cursor_brings_back_its_value_exactly(value: object) -> None:
    cursor = Cursor("-total", value, 42, before=True)  # type: ignore[arg-type]
    back = decode_cursor(encode_cursor(cursor), Sort("total", descending=True))
    assert back == cursor
    assert type(back.value) is type(value)  # type: ignore[union-attr]
    assert str(back.value) == str(value)  # a Decimal keeps its places  # type: ignore[union-attr]


def test_a_text_id_travels_too() -> None:
    cursor = Cursor("occurred_on", date(2027, 2, 1), "r3")
    assert decode_cursor(encode_cursor(cursor), Sort("occurred_on", False)) == cursor


def test_damaged_old_and_foreign_cursors_are_refused() -> None:
    token = encode_cursor(Cursor("name", "Acme", 3))
    old_offset = base64.urlsafe_b64encode(b"o:25").decode()
    for damaged in (
        old_offset,
        "not base64!",
        token[:-6],
        base64.urlsafe_b64encode(b"[1]").decode(),
    ):
        with pytest.raises(InvalidInput) as refused:
            decode_cursor(damaged, Sort("name", False))
        assert refused.value.code == "invalid_cursor"
    with pytest.raises(InvalidInput) as foreign:
        decode_cursor(token, Sort("name", True))
    assert "sorted by name, not -name" in foreign.value.message
    assert decode_cursor(None, Sort("name", False)) is None
