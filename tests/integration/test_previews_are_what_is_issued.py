"""The previews the pop-up, Run now and the CLI show before they ask are what is then
issued, to the cent, on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest

from recur.db.session import Database
from recur.domain.errors import NotFound
from recur.domain.invoices import totals_by_currency
from recur.domain.issued import InvoiceFilter
from recur.services import accounts, billing_run, invoicing, subscriptions
from tests.web.acme import seed_acme

TODAY = date(2027, 1, 15)


def _issued_facts(db: Database, ids: list[int]) -> list[tuple[date, Decimal, Decimal, Decimal]]:
    found = [invoicing.get_invoice(db, i) for i in ids]
    return sorted((i.issue_date, i.subtotal, i.tax, i.total) for i in found)


def test_the_selection_preview_is_what_generate_issues(db: Database) -> None:
    acme = seed_acme(db)
    selection = [acme.s1, acme.s2]
    preview = invoicing.preview_generation(db, acme.account_id, selection, TODAY)
    assert preview, "something is pending for S1 and S2"
    assert invoicing.preview_generation(db, acme.account_id, selection, TODAY) == preview
    issued = invoicing.generate_for_account(db, acme.account_id, selection, TODAY, "t")
    assert _issued_facts(db, [i.id for i in issued.invoices]) == sorted(
        (d.issue_date, d.totals.subtotal, d.totals.tax, d.totals.total) for d in preview
    )
    # The preview of nothing is nothing; of what the generation refuses, refused alike.
    assert invoicing.preview_generation(db, acme.account_id, [], TODAY) == []
    with pytest.raises(NotFound, match="subscriptions 9999 do not exist"):
        invoicing.preview_generation(db, acme.account_id, [9999], TODAY)


def test_a_dry_run_is_what_the_run_then_issues_and_writes_nothing(db: Database) -> None:
    acme = seed_acme(db)
    other = accounts.create_account(
        db, accounts.AccountSpec("Other Ltd", "ap@other.example", "EUR", billing_day=1), "t"
    )
    option = subscriptions.get_subscription(db, acme.s1).pricing_option_id
    spec = subscriptions.SubscriptionSpec(other.id, option, 3, date(2027, 1, 1))
    subscriptions.create_subscription(db, spec, "t")
    as_of = date(2027, 2, 11)
    runs_before = billing_run.list_billing_runs(db).total
    preview = billing_run.preview_run(db, as_of, as_of, batch_size=1)  # one account a batch
    assert billing_run.list_billing_runs(db).total == runs_before
    assert preview.accounts == 2
    assert {d.account_id for d in preview.documents} == {acme.account_id, other.id}
    run = billing_run.run_billing(db, as_of, as_of, "t")
    assert run.invoices_issued == len(preview.documents)
    issued = invoicing.list_invoices(db, InvoiceFilter(), 100).items
    by_run = [i for i in issued if i.billing_run_id == run.id]
    assert sorted(i.total for i in by_run) == sorted(d.totals.total for d in preview.documents)
    assert preview.totals["EUR"].total == sum(i.total for i in by_run)
    assert totals_by_currency(preview.documents) == preview.totals
    again = billing_run.preview_run(db, as_of, as_of)
    assert (again.accounts, again.documents) == (0, [])


def test_account_names_match_in_any_case_and_near_names_are_suggested(db: Database) -> None:
    seed_acme(db)
    assert accounts.find_account(db, "ACME ltd").name == "Acme Ltd"
    with pytest.raises(Exception, match=r"no account 'Acme Lt'; did you mean 'Acme Ltd'\?"):
        accounts.find_account(db, "Acme Lt")
    with pytest.raises(Exception, match=r"^no account 'Zebra'$"):
        accounts.find_account(db, "Zebra")
    with pytest.raises(Exception, match=r"^no account 'Acme_Ltd'"):  # _ is no wildcard
        accounts.find_account(db, "Acme_Ltd")
