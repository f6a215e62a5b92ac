"""A preview is bounded for every door: it looks at most five years ahead."""

from datetime import date

import pytest

from recur.db.session import Database
from recur.domain.errors import InvalidInput
from recur.services.invoicing import pending_for_account, pending_for_subscription
from tests.integration import factories as f

TODAY = date(2027, 1, 15)


def test_a_preview_looks_at_most_five_years_ahead(db: Database) -> None:
    acct = f.account(db)
    sub = f.subscribe(db, acct, f.product(db), date(1970, 1, 1))
    assert pending_for_account(db, acct, date(2032, 1, 15), TODAY).invoices
    for preview in (
        lambda: pending_for_account(db, acct, date(2032, 1, 16), TODAY),
        lambda: pending_for_subscription(db, sub, date(2199, 12, 31), TODAY),
    ):
        with pytest.raises(InvalidInput, match="as_of must be on or before 2032-01-15") as error:
            preview()
        assert error.value.code == "as_of_too_far"
