"""The `recur` command, run as a user would: SPEC §8 from the terminal."""

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType
from recur.services import accounts, catalogue, subscriptions

RECUR = str(Path(sys.executable).parent / "recur")


def recur(
    url: str, *args: str, today: str = "2027-01-15", input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`recur ARGS` on the database at `url`, on `today`, answering prompts with `input`."""
    env = {**os.environ, "RECUR_DATABASE_URL": url, "RECUR_TODAY": today}
    return subprocess.run(
        [RECUR, *args], env=env, capture_output=True, text=True, timeout=60, input=input
    )


@pytest.fixture
def acme_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert recur(url, "db", "upgrade").returncode == 0
    db = Database(url)

    def option(sku: str, name: str, price: str, kind: BillingType, setup: str = "0") -> int:
        spec = catalogue.PricingOptionSpec(
            "monthly", BillingCycle.MONTHLY, kind, Decimal(price), "EUR", Decimal(setup)
        )
        product = catalogue.create_product(db, catalogue.ProductSpec(sku, name, [spec]), "t")
        return product.pricing_options[0].id

    spec = accounts.AccountSpec(
        "Acme Ltd", "ap@acme.test", "EUR", billing_day=11, tax_rate=Decimal(24)
    )
    account = accounts.create_account(db, spec, "t").id
    for opt, qty, start in (
        (option("O365", "Office 365 E3", "12.50", BillingType.PREPAID), 10, date(2027, 1, 11)),
        (
            option("BK", "Cloud Backup 1 TB", "20.00", BillingType.PREPAID, "50.00"),
            1,
            date(2027, 1, 20),
        ),
        (option("AZ", "Azure usage", "100.00", BillingType.POSTPAID), 1, date(2027, 1, 11)),
    ):
        subscriptions.create_subscription(
            db, subscriptions.SubscriptionSpec(account, opt, qty, start), "t"
        )
    db.dispose()
    return url


def test_the_worked_example_from_the_terminal(acme_url: str) -> None:
    run = recur(acme_url, "billing", "run", "--as-of", "2027-01-11", "--yes")
    assert run.returncode == 0, run.stderr
    assert "1 invoice," in run.stdout

    pending = recur(acme_url, "pending", "Acme Ltd")
    assert pending.returncode == 0, pending.stderr
    lines = pending.stdout.splitlines()
    assert any("20 Jan 2027" in ln and "€79.60" in ln for ln in lines)
    assert any("11 Feb 2027" in ln and "€279.00" in ln for ln in lines)
    assert "0.709677" in pending.stdout  # S2's 22/31

    generated = recur(acme_url, "generate", "Acme Ltd", "-s", "1", "-s", "3", "--yes")
    assert generated.returncode == 0, generated.stderr
    assert "in all, EUR: subtotal €225.00, tax €54.00, total €279.00" in generated.stdout
    assert generated.stdout.splitlines()[-1] == "issued INV-2027-000002 dated 2027-01-15: €279.00"

    shown = recur(acme_url, "invoice", "INV-2027-000002")
    assert "11 Feb 2027 – 10 Mar 2027" in shown.stdout
    assert "€279.00" in shown.stdout

    again = recur(acme_url, "generate", "Acme Ltd", "-s", "1", "--yes")
    assert again.returncode == 0  # S1's next period is pending: 11 Mar
    assert "dated 2027-01-15" in again.stdout


def test_errors_are_one_line_with_an_exit_status(acme_url: str, tmp_path: Path) -> None:
    unknown = recur(acme_url, "generate", "Acme Ltd", "-s", "99")
    assert (unknown.returncode, unknown.stderr.strip()) == (
        3,
        "error: subscriptions 99 do not exist (subscription_not_found)",
    )
    future = recur(acme_url, "billing", "run", "--as-of", "2027-02-01")
    assert future.returncode == 2
    assert "as_of_in_future" in future.stderr
    fresh = recur(f"sqlite:///{tmp_path / 'empty.sqlite3'}", "pending", "Acme Ltd")
    assert fresh.returncode == 5
    assert "recur db upgrade" in fresh.stderr


def test_out_of_bounds_input_is_refused_in_one_line(acme_url: str) -> None:
    for args, status, words in (
        (("pending", "9" * 20), 3, "error: no account '99999999999999999999'"),
        (("pending", "2147483648"), 3, "error: no account '2147483648'"),
        (("billing", "run", "--as-of", "1969-12-31"), 2, "as_of must be between 1970-01-01"),
        (("pending", "Acme Ltd", "--as-of", "2200-01-01"), 2, "as_of must be between"),
        (("generate", "Acme Ltd", "-s", "2147483648"), 2, "Invalid value for '--subscription'"),
    ):
        answer = recur(acme_url, *args)
        assert answer.returncode == status, (args, answer.stderr)
        assert words in answer.stderr
        assert "Traceback" not in answer.stderr


def test_user_texts_are_printed_escaped(acme_url: str) -> None:
    """A name stored before the services refused control and bidi characters (or written
    to the database by other means) cannot drive the operator's terminal."""
    assert recur(acme_url, "billing", "run", "--as-of", "2027-01-11", "-y").returncode == 0
    db = Database(acme_url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET name = :name"), {"name": "Acme\x1b[2J\u202eLtd"})
        conn.execute(text("UPDATE invoice_items SET description = :d"), {"d": "Seat\x07\u2066"})
    db.dispose()
    for args in (("invoices",), ("pending", "1"), ("invoice", "INV-2027-000001")):
        answer = recur(acme_url, *args)
        assert answer.returncode == 0, answer.stderr
        assert not any(char in answer.stdout for char in "\x1b\x07\u202e\u2066"), args
        assert "Acme\\x1b[2J\\u202eLtd" in answer.stdout, args
    assert "Seat\\x07\\u2066" in recur(acme_url, "invoice", "INV-2027-000001").stdout


def test_a_preview_too_far_ahead_is_refused_as_by_the_api(acme_url: str) -> None:
    far = recur(acme_url, "pending", "Acme Ltd", "--as-of", "2199-12-31")
    assert far.returncode == 2, far.stdout
    assert far.stderr.strip() == (
        "error: a preview looks at most 5 years ahead: as_of must be on or before 2032-01-15"
        " (as_of_too_far)"
    )
    assert recur(acme_url, "pending", "Acme Ltd", "--as-of", "2032-01-15").returncode == 0
