"""Catalogue management (issue 15): edit a product, add options, archive them, and
prices that never change once used; on SQLite and PostgreSQL. A refusal changes nothing,
and every change writes one audit event."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from recur.db.models import AuditEvent
from recur.db.models import PricingOption as OptionRow
from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType
from recur.domain.errors import Conflict, InvalidInput, NotFound
from recur.domain.usage import MeterSpec
from recur.services import catalogue, invoicing
from recur.services.billing_run import run_billing
from recur.services.catalogue import PriceChanges, PricingOptionSpec, ProductChanges
from recur.services.changes import ChangeSpec, change_subscription
from recur.services.subscriptions import SubscriptionSpec, create_subscription

from .factories import account, product, subscribe

JAN1 = date(2027, 1, 1)


def _events(db: Database) -> list[tuple[str, str, int | None]]:
    with db.read() as session:
        query = select(AuditEvent.action, AuditEvent.subject_type, AuditEvent.subject_id)
        return [tuple(row) for row in session.execute(query.order_by(AuditEvent.id))]  # type: ignore[misc]


def _options(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(OptionRow)) or 0)


def _spec(code: str, price: str = "20.00", **changes: object) -> PricingOptionSpec:
    values: dict[str, object] = {
        "code": code,
        "billing_period": BillingCycle.MONTHLY,
        "billing_type": BillingType.PREPAID,
        "unit_price": Decimal(price),
        "currency": "EUR",
    }
    values.update(changes)
    return PricingOptionSpec(**values)  # type: ignore[arg-type]


def test_a_product_is_renamed_and_made_untaxable_with_one_audit_event(db: Database) -> None:
    option = product(db, "Seats")
    product_id = catalogue.get_pricing_option(db, option).product_id
    before = len(_events(db))

    edited = catalogue.update_product(
        db, product_id, ProductChanges(name="Seats 2027", taxable=False), "t"
    )

    assert (edited.name, edited.taxable) == ("Seats 2027", False)
    assert catalogue.get_product(db, product_id) == edited
    assert _events(db)[before:] == [("product.updated", "product", product_id)]
    only_name = catalogue.update_product(db, product_id, ProductChanges(name="Seats"), "t")
    assert (only_name.name, only_name.taxable) == ("Seats", False)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        (ProductChanges(), "nothing_to_change"),
        (ProductChanges(name=" \u200b "), "invalid_name"),
        (ProductChanges(name="x" * 201), "invalid_name"),
    ],
)
def test_a_bad_edit_changes_nothing(db: Database, changes: ProductChanges, code: str) -> None:
    option = product(db, "Seats")
    product_id = catalogue.get_pricing_option(db, option).product_id
    before = (catalogue.get_product(db, product_id), _events(db))
    with pytest.raises(InvalidInput) as refused:
        catalogue.update_product(db, product_id, changes, "t")
    assert refused.value.code == code
    assert (catalogue.get_product(db, product_id), _events(db)) == before
    with pytest.raises(NotFound):
        catalogue.update_product(db, 999_999, ProductChanges(name="X"), "t")


def test_issued_invoices_keep_their_tax_and_later_ones_follow_the_product(db: Database) -> None:
    acme = account(db, tax_rate="24", billing_day=1)
    option = product(db, "Seats", unit_price="100.00")
    product_id = catalogue.get_pricing_option(db, option).product_id
    subscribe(db, acme, option, JAN1)
    run_billing(db, JAN1, JAN1, "t")
    [issued] = invoicing.list_invoices(db).items
    assert issued.tax == Decimal("24.00")

    catalogue.update_product(db, product_id, ProductChanges(taxable=False), "t")

    assert invoicing.get_invoice(db, issued.id).tax == Decimal("24.00")
    pending = invoicing.pending_for_account(db, acme, date(2027, 2, 1)).invoices
    assert pending  # February's, at least
    assert {(p.totals.subtotal, p.totals.tax) for p in pending} == {(Decimal("100.00"), 0)}
    run_billing(db, date(2027, 2, 1), date(2027, 2, 1), "t")
    february = [i for i in invoicing.list_invoices(db).items if i.id != issued.id]
    assert [(i.issue_date, i.tax) for i in february] == [(date(2027, 2, 1), Decimal("0.00"))]


def test_options_are_added_to_a_product_together(db: Database) -> None:
    option = product(db, "Seats")
    product_id = catalogue.get_pricing_option(db, option).product_id
    meters = (MeterSpec("vm.hours", "VM", "hours", Decimal("0.096")),)
    added = catalogue.add_pricing_options(
        db,
        product_id,
        [
            _spec("annual", "200.00", billing_period=BillingCycle.ANNUAL),
            _spec("usage", "0", billing_type=BillingType.USAGE, meters=meters),
        ],
        "t",
    )
    assert [o.code for o in added.pricing_options] == ["default", "annual", "usage"]
    assert added.pricing_options[0].id == option  # untouched
    assert [m.code for m in added.pricing_options[2].meters] == ["vm.hours"]
    assert _events(db)[-1] == ("product.pricing_options_added", "product", product_id)


@pytest.mark.parametrize(
    ("specs", "code"),
    [
        ([_spec("default")], "duplicate_pricing_code"),  # the product's own
        ([_spec("a"), _spec("a")], "duplicate_pricing_code"),
        ([_spec("a"), _spec("b", currency="XXX")], "unknown_currency"),
        ([_spec("u", "0", billing_type=BillingType.USAGE)], "missing_meters"),
        ([], "missing_pricing_options"),
    ],
)
def test_a_bad_addition_adds_nothing(
    db: Database, specs: list[PricingOptionSpec], code: str
) -> None:
    option = product(db, "Seats")
    product_id = catalogue.get_pricing_option(db, option).product_id
    before = (_options(db), _events(db))
    with pytest.raises(InvalidInput) as refused:
        catalogue.add_pricing_options(db, product_id, specs, "t")
    assert refused.value.code == code
    assert (_options(db), _events(db)) == before


def test_an_archived_option_takes_no_new_subscription_and_its_own_go_on(db: Database) -> None:
    acme = account(db, billing_day=1)
    old = product(db, "Seats", unit_price="10.00")
    product_id = catalogue.get_pricing_option(db, old).product_id
    new = catalogue.add_pricing_options(db, product_id, [_spec("monthly-2")], "t")
    new_id = new.pricing_options[1].id
    kept = subscribe(db, acme, old, JAN1)
    mover = subscribe(db, acme, new_id, JAN1)
    run_billing(db, JAN1, JAN1, "t")

    archived = catalogue.archive_pricing_option(db, product_id, old, "t")
    assert archived.active is False
    assert _events(db)[-1] == ("pricing_option.archived", "pricing_option", old)

    with pytest.raises(Conflict) as refused:
        create_subscription(db, SubscriptionSpec(acme, old, 1, JAN1), "t")
    assert refused.value.code == "pricing_option_inactive"
    assert "archived" in refused.value.message
    with pytest.raises(Conflict) as switch:
        change_subscription(db, mover, ChangeSpec(pricing_option_id=old), JAN1, "t")
    assert switch.value.code == "pricing_option_inactive"

    # The subscription on it renews and bills as before: January, then February.
    run_billing(db, date(2027, 2, 1), date(2027, 2, 1), "t")
    billed = sorted(
        (i.issue_date, item.period_start, item.amount)
        for i in invoicing.list_invoices(db).items
        for item in i.items
        if item.subscription_id == kept
    )
    assert billed == [
        (JAN1, JAN1, Decimal("10.00")),
        (date(2027, 2, 1), date(2027, 2, 1), Decimal("10.00")),
    ]

    restored = catalogue.unarchive_pricing_option(db, product_id, old, "t")
    assert restored.active is True
    assert _events(db)[-1] == ("pricing_option.unarchived", "pricing_option", old)
    assert subscribe(db, acme, old, date(2027, 2, 1))


def test_an_option_is_archived_only_through_its_own_product(db: Database) -> None:
    option = product(db, "Seats")
    other = catalogue.get_pricing_option(db, product(db, "Other")).product_id
    before = _events(db)
    with pytest.raises(NotFound) as refused:
        catalogue.archive_pricing_option(db, other, option, "t")
    assert refused.value.code == "pricing_option_not_found"
    assert catalogue.get_pricing_option(db, option).active is True
    assert _events(db) == before


def test_prices_of_an_unused_option_may_be_corrected(db: Database) -> None:
    option = product(db, "Seats", unit_price="10.00")
    product_id = catalogue.get_pricing_option(db, option).product_id
    changed = catalogue.change_prices(
        db, product_id, option, PriceChanges(unit_price=Decimal("12.00")), "t"
    )
    assert (changed.unit_price, changed.setup_fee) == (Decimal("12.00"), Decimal(0))
    assert _events(db)[-1] == ("pricing_option.prices_changed", "pricing_option", option)


def test_prices_of_an_option_in_use_never_change(db: Database) -> None:
    acme = account(db)
    started = product(db, "Seats", unit_price="10.00")
    product_id = catalogue.get_pricing_option(db, started).product_id
    target = catalogue.add_pricing_options(db, product_id, [_spec("b")], "t").pricing_options[1]
    sub = subscribe(db, acme, started, JAN1)
    change_subscription(db, sub, ChangeSpec(pricing_option_id=target.id), JAN1, "t")
    before = (catalogue.get_product(db, product_id), _events(db))

    for option in (started, target.id):  # started on, and switched to
        with pytest.raises(Conflict) as refused:
            catalogue.change_prices(
                db, product_id, option, PriceChanges(setup_fee=Decimal("5")), "t"
            )
        assert refused.value.code == "pricing_option_in_use"
        assert "Archive it and add an option" in refused.value.message
    assert (catalogue.get_product(db, product_id), _events(db)) == before
    # What the operator may do instead: archive it.
    assert catalogue.archive_pricing_option(db, product_id, started, "t").active is False


def test_a_usage_option_keeps_a_unit_price_of_zero(db: Database) -> None:
    option = product(db, "Seats")
    product_id = catalogue.get_pricing_option(db, option).product_id
    meters = (MeterSpec("gb", "Storage", "GB", Decimal("0.02")),)
    usage = catalogue.add_pricing_options(
        db, product_id, [_spec("u", "0", billing_type=BillingType.USAGE, meters=meters)], "t"
    ).pricing_options[1]
    with pytest.raises(InvalidInput) as refused:
        catalogue.change_prices(db, product_id, usage.id, PriceChanges(Decimal(1)), "t")
    assert refused.value.code == "invalid_unit_price"
    assert catalogue.get_pricing_option(db, usage.id).unit_price == 0
