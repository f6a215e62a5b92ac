"""`recur subscription change / cancel / changes`, run as a user would, on SPEC §14."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType, CancelAt
from recur.services import accounts, catalogue, changes, invoicing, subscriptions
from tests.e2e.test_cli import recur


@dataclass(frozen=True)
class Beta:
    url: str
    s1: int
    e3: int
    e5: int


@pytest.fixture
def beta(db_url: str) -> Beta:
    """SPEC §14's account and S1 (E3 × 10 from 2027-03-01), billed on 2027-03-01."""
    db = Database(db_url)

    def option(sku: str, name: str, price: str) -> int:
        spec = catalogue.PricingOptionSpec(
            "monthly", BillingCycle.MONTHLY, BillingType.PREPAID, Decimal(price), "EUR"
        )
        product = catalogue.create_product(db, catalogue.ProductSpec(sku, name, [spec]), "t")
        return product.pricing_options[0].id

    spec = accounts.AccountSpec(
        "Beta GmbH",
        "ap@beta.test",
        "EUR",
        billing_day=1,
        payment_terms_days=14,
        tax_rate=Decimal(20),
    )
    account = accounts.create_account(db, spec, "t").id
    e3 = option("E3", "Microsoft 365 E3", "30.00")
    e5 = option("E5", "Microsoft 365 E5", "50.00")
    s1 = subscriptions.create_subscription(
        db, subscriptions.SubscriptionSpec(account, e3, 10, date(2027, 3, 1)), "t"
    ).id
    db.dispose()
    run = recur(db_url, "billing", "run", "--yes", today="2027-03-01")
    assert run.returncode == 0, run.stderr
    return Beta(db_url, s1, e3, e5)


def _changes(url: str, s1: int, today: date) -> list[changes.SubscriptionChange]:
    db = Database(url)
    try:
        return changes.list_changes(db, s1, today)
    finally:
        db.dispose()


def _numbers(url: str) -> list[str]:
    db = Database(url)
    try:
        return [i.number for i in invoicing.list_invoices(db).items]
    finally:
        db.dispose()


def test_spec_14_changes_and_cancellation_from_the_terminal(beta: Beta) -> None:
    s1 = str(beta.s1)
    change = recur(
        beta.url, "subscription", "change", s1, "--quantity", "15", "--yes", today="2027-03-11"
    )
    assert change.returncode == 0, change.stderr
    out = change.stdout
    # the preview: the adjustment due today and April's invoice, with their arithmetic
    assert "Invoice issued 11 Mar 2027, due 25 Mar 2027" in out
    assert "subtotal €101.61, tax €20.32, total €121.93" in out
    assert "Invoice issued 1 Apr 2027" in out
    assert "total €540.00" in out
    assert "adjustment" in out
    assert "21/31" in out  # the adjustment's explanation
    assert "0.677419" in out
    assert "Make this change?" not in out
    assert "\\n" not in out  # blank lines between documents, not escaped newlines
    assert f"made: quantity 15 from {date(2027, 3, 11)}" in out.splitlines()[-1]
    assert recur(beta.url, "billing", "run", "--yes", today="2027-03-11").returncode == 0

    switch = recur(
        beta.url,
        "subscription",
        "change",
        s1,
        "--pricing-option",
        str(beta.e5),
        "--effective",
        "now",
        "-y",
        today="2027-03-20",
    )
    assert switch.returncode == 0, switch.stderr
    assert "Credit note issued 20 Mar 2027, due 20 Mar 2027" in switch.stdout
    assert "subtotal -€174.19, tax -€34.84, total -€209.03" in switch.stdout
    assert "total €348.38" in switch.stdout
    assert recur(beta.url, "billing", "run", "--yes", today="2027-03-20").returncode == 0

    later = recur(
        beta.url,
        "subscription",
        "change",
        s1,
        "--quantity",
        "12",
        "--effective",
        "2027-04-10",
        "--yes",
        today="2027-03-25",
    )
    assert later.returncode == 0, later.stderr
    assert "subtotal €645.00, tax €129.00, total €774.00" in later.stdout
    listed = recur(beta.url, "subscription", "changes", s1, today="2027-03-25")
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()[2:]
    assert len(rows) == 3
    for row, (effective, status) in zip(
        rows,
        (("11 Mar 2027", "in effect"), ("20 Mar 2027", "in effect"), ("10 Apr 2027", "scheduled")),
        strict=True,
    ):
        assert effective in row, row
        assert status in row, row
    assert recur(beta.url, "billing", "run", "--yes", today="2027-04-01").returncode == 0

    cancel = recur(
        beta.url, "subscription", "cancel", s1, "--at", "now", "--yes", today="2027-04-16"
    )
    assert cancel.returncode == 0, cancel.stderr
    assert "Credit note issued 16 Apr 2027, due 16 Apr 2027" in cancel.stdout
    assert "subtotal -€300.00, tax -€60.00, total -€360.00" in cancel.stdout
    assert cancel.stdout.splitlines()[-1] == (
        f"subscription {s1} cancelled: service ends on 2027-04-16"
    )
    assert recur(beta.url, "billing", "run", "--yes", today="2027-04-16").returncode == 0
    assert sorted(_numbers(beta.url)) == [
        "CN-2027-000001",
        "CN-2027-000002",
        "INV-2027-000001",
        "INV-2027-000002",
        "INV-2027-000003",
        "INV-2027-000004",
    ]
    pending = recur(beta.url, "pending", "Beta GmbH", today="2027-04-16")
    assert "nothing pending" in pending.stdout
    credit = recur(beta.url, "invoice", "CN-2027-000002", today="2027-04-16")
    assert credit.returncode == 0, credit.stderr
    assert "(credit, unpaid, automatic)" in credit.stdout
    assert "corrects INV-2027-000004" in credit.stdout.splitlines()
    assert "unused 16–30 Apr 2027: −12 × 50.00 × 15/30 days" in credit.stdout


def test_pending_shows_credit_notes_and_explanations(beta: Beta) -> None:
    db = Database(beta.url)
    changes.change_subscription(db, beta.s1, changes.ChangeSpec(quantity=4), date(2027, 3, 11), "t")
    db.dispose()
    pending = recur(beta.url, "pending", "Beta GmbH", today="2027-03-11")
    assert pending.returncode == 0, pending.stderr
    [credit] = [line for line in pending.stdout.splitlines() if "Credit note" in line]
    # −6 × 30.00 × 21/31 = −121.94, tax −24.39, total −146.33, issued today
    assert "11 Mar 2027" in credit
    assert "-€121.94" in credit
    assert "-€24.39" in credit
    assert "-€146.33" in credit
    assert "Explanation" in pending.stdout
    assert "21/31" in pending.stdout


def test_answering_no_changes_nothing(beta: Beta) -> None:
    s1 = str(beta.s1)
    declined = recur(
        beta.url, "subscription", "change", s1, "--quantity", "15", today="2027-03-11", input="n\n"
    )
    assert declined.returncode == 1, declined.stderr
    assert "Make this change?" in declined.stdout
    assert "total €121.93" in declined.stdout  # what it would have issued
    assert declined.stdout.splitlines()[-1].endswith("nothing changed")
    assert _changes(beta.url, beta.s1, date(2027, 3, 11)) == []

    kept = recur(
        beta.url, "subscription", "cancel", s1, "--at", "now", today="2027-03-11", input="\n"
    )
    assert kept.returncode == 1, kept.stderr
    assert "Cancel it?" in kept.stdout
    db = Database(beta.url)
    try:
        assert subscriptions.get_subscription(db, beta.s1).end_date is None
    finally:
        db.dispose()

    confirmed = recur(
        beta.url, "subscription", "change", s1, "--quantity", "15", today="2027-03-11", input="y\n"
    )
    assert confirmed.returncode == 0, confirmed.stderr
    assert [c.quantity for c in _changes(beta.url, beta.s1, date(2027, 3, 11))] == [15]


def test_refusals_exit_with_the_message(beta: Beta) -> None:
    s1 = str(beta.s1)
    for args, status, message in (
        (("change", s1), 2, "(nothing_to_change)"),
        (("change", s1, "--quantity", "3", "--effective", "2027-03-01"), 2, "(invalid_effective)"),
        (("change", s1, "--quantity", "3", "--effective", "soon"), 2, "(invalid_effective)"),
        (("change", s1, "--quantity", "0"), 2, "(invalid_quantity)"),
        (("change", "999", "--quantity", "3"), 3, "(subscription_not_found)"),
        (("change", s1, "--pricing-option", "999"), 3, "(pricing_option_not_found)"),
        (("cancel", "999", "--at", "now"), 3, "(subscription_not_found)"),
    ):
        answer = recur(beta.url, "subscription", *args, "--yes", today="2027-03-11")
        assert answer.returncode == status, (args, answer.stdout, answer.stderr)
        [line] = answer.stderr.splitlines()
        assert line.startswith("error: "), (args, line)
        assert line.endswith(message), (args, line)
    assert _changes(beta.url, beta.s1, date(2027, 3, 11)) == []

    db = Database(beta.url)
    subscriptions.cancel_subscription(db, beta.s1, CancelAt.NOW, date(2027, 3, 11), "t")
    db.dispose()
    ended = recur(
        beta.url, "subscription", "change", s1, "--quantity", "3", "--yes", today="2027-03-12"
    )
    assert ended.returncode == 4, ended.stderr
    assert ended.stderr.strip().endswith("(subscription_ended)")
