"""A preview computes at most its limit of charges, then refuses."""

from datetime import date

import pytest

from recur.domain.charges import BilledState
from recur.domain.invoices import TooManyCharges, pending_invoices
from tests.unit.factories import account, terms

TODAY = date(2027, 1, 15)


def test_a_preview_computes_at_most_its_limit_of_charges() -> None:
    states = [
        (terms(subscription_id=i, start_date=date(2020, 1, 11)), BilledState()) for i in (1, 2)
    ]
    everything = pending_invoices(account(), states, TODAY)
    charges = sum(len(invoice.items) for invoice in everything)
    assert pending_invoices(account(), states, TODAY, limit=charges) == everything
    with pytest.raises(TooManyCharges, match=f"more than {charges - 1:,} charges"):
        pending_invoices(account(), states, TODAY, limit=charges - 1)
