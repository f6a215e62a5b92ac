"""`recur product ...`: the catalogue managed from the command line, by the rules of the
API and the back office; a refusal exits with the domain error's status and changes
nothing. On SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType
from recur.domain.products import Product
from recur.services import accounts, catalogue, subscriptions
from tests.e2e.test_cli import recur


def _product(url: str, product_id: int | None = None) -> Product:
    db = Database(url)
    try:
        if product_id is None:
            spec = catalogue.PricingOptionSpec(
                "monthly", BillingCycle.MONTHLY, BillingType.PREPAID, Decimal("10.00"), "EUR"
            )
            return catalogue.create_product(db, catalogue.ProductSpec("SEAT", "Seat", [spec]), "t")
        return catalogue.get_product(db, product_id)
    finally:
        db.dispose()


def _subscribe(url: str, option_id: int) -> None:
    db = Database(url)
    try:
        account = accounts.create_account(
            db, accounts.AccountSpec("Acme", "ap@acme.test", "EUR"), "t"
        ).id
        spec = subscriptions.SubscriptionSpec(account, option_id, 1, date(2027, 1, 15))
        subscriptions.create_subscription(db, spec, "t")
    finally:
        db.dispose()


def test_a_product_is_edited_and_given_options_from_the_cli(db_url: str) -> None:
    product = _product(db_url)
    pid = str(product.id)
    edited = recur(db_url, "product", "edit", pid, "--name", "Seats", "--not-taxable")
    assert edited.returncode == 0, edited.stderr
    assert "Seats, not taxable" in edited.stdout

    added = recur(
        db_url, "product", "add-option", pid, "--code", "usage", "--period", "monthly",
        "--type", "usage", "--currency", "eur", "--unit-price", "0",
        "--meter", "vm.hours, Virtual machines, hours, 0.096", "--meter", "gb, Storage, GB, 0.02",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    after = _product(db_url, product.id)
    assert (after.name, after.taxable) == ("Seats", False)
    assert [o.code for o in after.pricing_options] == ["monthly", "usage"]
    assert [m.unit_price for m in after.pricing_options[1].meters] == [
        Decimal("0.096"),
        Decimal("0.02"),
    ]


def test_bad_input_from_the_cli_changes_nothing(db_url: str) -> None:
    product = _product(db_url)
    pid = str(product.id)
    option = [
        "--period", "monthly", "--type", "prepaid", "--currency", "EUR", "--unit-price",
    ]  # fmt: skip
    for args, status, said in (
        (["edit", pid, "--name", "\u200b"], 2, "invalid_name"),
        (["edit", pid], 2, "nothing_to_change"),
        (["add-option", pid, "--code", "monthly", *option, "5"], 2, "duplicate_pricing_code"),
        (["add-option", pid, "--code", "x", *option, "12,50"], 2, "point for decimals"),
        (["edit", "999", "--name", "X"], 3, "product_not_found"),
    ):
        refused = recur(db_url, "product", *args)
        assert refused.returncode == status, refused.stderr
        assert said in refused.stderr
    assert _product(db_url, product.id) == product


def test_options_are_archived_and_prices_in_use_refused_from_the_cli(db_url: str) -> None:
    product = _product(db_url)
    pid, oid = str(product.id), str(product.pricing_options[0].id)
    corrected = recur(db_url, "product", "set-prices", pid, oid, "--unit-price", "11.00")
    assert corrected.returncode == 0, corrected.stderr
    _subscribe(db_url, product.pricing_options[0].id)

    refused = recur(db_url, "product", "set-prices", pid, oid, "--unit-price", "12.00")
    assert refused.returncode == 4
    assert "pricing_option_in_use" in refused.stderr
    assert _product(db_url, product.id).pricing_options[0].unit_price == Decimal("11.00")

    archived = recur(db_url, "product", "archive-option", pid, oid)
    assert archived.returncode == 0, archived.stderr
    assert "takes no new subscriptions" in archived.stdout
    assert _product(db_url, product.id).pricing_options[0].active is False
    assert recur(db_url, "product", "unarchive-option", pid, oid).returncode == 0
    assert _product(db_url, product.id).pricing_options[0].active is True
