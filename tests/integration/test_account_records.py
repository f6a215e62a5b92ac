"""Accounts and the catalogue come out of the services as domain records (frozen values
with UTC timestamps), not ORM rows; an account's schedule follows its billing options
until a subscription is invoiced."""

import dataclasses
from datetime import UTC, date
from decimal import Decimal

import pytest

from recur.db.session import Database
from recur.domain.accounts import Account, AccountRef, AccountSummary
from recur.domain.catalogue import BillingCycle
from recur.domain.errors import Conflict
from recur.domain.products import PricingOption, Product, ProductRef
from recur.services import accounts, catalogue, invoicing
from tests.integration.factories import account, product, subscribe, subscription_row

TODAY = date(2027, 1, 11)


def _frozen_record(value: object) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.id = 0  # type: ignore[misc]


def test_every_account_service_returns_account_records(db: Database) -> None:
    spec = accounts.AccountSpec("Acme Ltd", "billing@acme.test", "EUR", tax_rate=Decimal("7.5"))
    created = accounts.create_account(db, spec, "t")
    updated = accounts.update_account(db, created.id, {"payment_terms_days": 14}, "t")
    read = [
        accounts.get_account(db, created.id),
        accounts.find_account(db, "acme ltd"),
        accounts.find_account(db, str(created.id)),
        *accounts.list_accounts(db, search="ACME").items,
    ]

    for record in [created, updated, *read]:
        assert type(record) is Account
        _frozen_record(record)
        assert record.created_at.utcoffset() == UTC.utcoffset(None)
    assert (created.currency, created.tax_rate, created.payment_terms_days) == (
        "EUR",
        Decimal("7.5"),
        30,
    )
    assert updated == dataclasses.replace(created, payment_terms_days=14)
    assert all(r == updated for r in read)
    assert created.ref == AccountRef(created.id, "Acme Ltd")


def test_account_summaries_and_counts(db: Database) -> None:
    acme, other = account(db), account(db, "Other")
    option = product(db, unit_price="12.50", cycle=BillingCycle.ONE_TIME)
    sub = subscribe(db, acme, option, TODAY)
    subscribe(db, acme, product(db), date(2027, 2, 3))
    invoicing.generate_for_account(db, acme, [sub], TODAY, "t")

    summaries = accounts.account_summaries(db, [acme, other])
    assert summaries == {
        acme: AccountSummary(Decimal("12.50"), date(2027, 2, 3)),
        other: AccountSummary(Decimal(0), None),
    }
    assert accounts.account_summaries(db, []) == {}
    assert accounts.account_counts(db, acme) == (1, 2)
    assert accounts.account_counts(db, other) == (0, 0)


def test_every_catalogue_service_returns_product_records(db: Database) -> None:
    options = [
        catalogue.PricingOptionSpec("monthly", BillingCycle.MONTHLY, "prepaid", Decimal(10), "EUR"),
        catalogue.PricingOptionSpec("annual", BillingCycle.ANNUAL, "prepaid", Decimal(100), "EUR"),
    ]
    spec = catalogue.ProductSpec("E3", "Office 365 E3", options, taxable=False)
    created = catalogue.create_product(db, spec, "t")
    read = [catalogue.get_product(db, created.id), *catalogue.list_products(db).items]

    for record in [created, *read]:
        assert type(record) is Product
        _frozen_record(record)
        assert record.created_at.utcoffset() == UTC.utcoffset(None)
        assert isinstance(record.pricing_options, tuple)
        for option in record.pricing_options:
            assert type(option) is PricingOption
            _frozen_record(option)
    assert all(r == created for r in read)
    ref = ProductRef(created.id, "E3", "Office 365 E3", False)
    assert created.ref == ref
    monthly, annual = created.pricing_options
    assert (monthly.code, annual.code, annual.term_months) == ("monthly", "annual", 12)
    assert catalogue.get_pricing_option(db, annual.id) == annual
    assert (annual.product, annual.product_id) == (ref, created.id)


def test_a_schedule_change_moves_the_next_charge_until_a_subscription_is_invoiced(
    db: Database,
) -> None:
    acme = account(db)
    sub = subscribe(db, acme, product(db), TODAY)
    assert subscription_row(db, sub).next_charge_date == TODAY

    # Aligned to the 1st, the partial 11–31 Jan is issued with February, on 1 Feb (SPEC §4).
    changes = {"billing_day": 1, "partial_charges": "next_billing_day"}
    accounts.update_account(db, acme, changes, "t")
    assert subscription_row(db, sub).next_charge_date == date(2027, 2, 1)

    invoicing.generate_for_account(db, acme, [sub], TODAY, "t")
    with pytest.raises(Conflict) as refused:
        accounts.update_account(db, acme, {"billing_day": 15}, "t")
    assert refused.value.code == "billing_schedule_locked"
    assert accounts.get_account(db, acme).billing_day == 1
    # Options that do not move the schedule may still change.
    assert accounts.update_account(db, acme, {"billing_day": 1, "name": "Acme"}, "t").name == "Acme"
