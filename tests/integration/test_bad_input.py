"""Bad input gets a clear domain error and changes nothing (SPEC §6)."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from recur.db.models import AuditEvent, BilledPeriod, Invoice, InvoiceItem, Subscription
from recur.db.session import Database
from recur.domain.catalogue import BillingCycle, BillingType
from recur.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from recur.services import accounts, billing_run, catalogue, invoicing, subscriptions

D = Decimal
TODAY = date(2027, 1, 15)


def _option() -> catalogue.PricingOptionSpec:
    return catalogue.PricingOptionSpec(
        "m", BillingCycle.MONTHLY, BillingType.PREPAID, D("10"), "EUR"
    )


def _world(db: Database) -> dict[str, int]:
    option = _option()
    usd = catalogue.PricingOptionSpec(
        "m-usd", BillingCycle.MONTHLY, BillingType.PREPAID, D("10"), "USD"
    )
    product = catalogue.create_product(db, catalogue.ProductSpec("SKU", "Seat", [option, usd]), "t")
    a = accounts.create_account(
        db, accounts.AccountSpec("A", "a@x.test", "EUR", billing_day=1), "t"
    ).id
    b = accounts.create_account(db, accounts.AccountSpec("B", "b@x.test", "EUR"), "t").id

    def order(account: int, start: date) -> int:
        spec = subscriptions.SubscriptionSpec(account, product.pricing_options[0].id, 1, start)
        return subscriptions.create_subscription(db, spec, "t").id

    ended = order(a, date(2027, 2, 1))
    subscriptions.cancel_subscription(db, ended, "now", TODAY, "t")  # not started: nothing to bill
    return {
        "a": a,
        "b": b,
        "a_sub": order(a, date(2027, 1, 1)),
        "b_sub": order(b, date(2027, 1, 1)),
        "ended": ended,
        "option": product.pricing_options[0].id,
        "usd_option": product.pricing_options[1].id,
    }


def _counts(db: Database) -> tuple[int, ...]:
    with db.transaction() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Invoice, InvoiceItem, BilledPeriod, Subscription, AuditEvent)
        )


CASES: list[tuple[str, type[DomainError], str, Callable[[Database, dict[str, int]], object]]] = [
    (
        "empty selection",
        InvalidInput,
        "empty_selection",
        lambda db, w: invoicing.generate_for_account(db, w["a"], [], TODAY, "t"),
    ),
    (
        "subscription of another account",
        InvalidInput,
        "subscription_of_another_account",
        lambda db, w: invoicing.generate_for_account(
            db, w["a"], [w["a_sub"], w["b_sub"]], TODAY, "t"
        ),
    ),
    (
        "nothing pending",
        Conflict,
        "nothing_pending",
        lambda db, w: invoicing.generate_for_account(
            db, w["a"], [w["a_sub"], w["ended"]], TODAY, "t"
        ),
    ),
    (
        "unknown subscription",
        NotFound,
        "subscription_not_found",
        lambda db, w: invoicing.generate_for_account(db, w["a"], [w["a_sub"], 9999], TODAY, "t"),
    ),
    (
        "unknown account",
        NotFound,
        "account_not_found",
        lambda db, w: invoicing.generate_for_account(db, 9999, [w["a_sub"]], TODAY, "t"),
    ),
    (
        "unknown single subscription",
        NotFound,
        "subscription_not_found",
        lambda db, w: invoicing.generate_for_subscription(db, 9999, TODAY, "t"),
    ),
    (
        "wrong currency",
        InvalidInput,
        "currency_mismatch",
        lambda db, w: subscriptions.create_subscription(
            db, subscriptions.SubscriptionSpec(w["a"], w["usd_option"], 1, TODAY), "t"
        ),
    ),
    (
        "zero quantity",
        InvalidInput,
        "invalid_quantity",
        lambda db, w: subscriptions.create_subscription(
            db, subscriptions.SubscriptionSpec(w["a"], w["usd_option"], 0, TODAY), "t"
        ),
    ),
    (
        "run in the future",
        InvalidInput,
        "as_of_in_future",
        lambda db, w: billing_run.run_billing(db, date(2027, 1, 16), TODAY, "t"),
    ),
    (
        "billing day out of range",
        InvalidInput,
        "invalid_billing_day",
        lambda db, w: accounts.create_account(
            db, accounts.AccountSpec("C", "c@x.test", "EUR", billing_day=31), "t"
        ),
    ),
    (
        "unknown currency",
        InvalidInput,
        "unknown_currency",
        lambda db, w: accounts.create_account(
            db, accounts.AccountSpec("C", "c@x.test", "XYZ"), "t"
        ),
    ),
    *[
        (
            f"start date {start}",
            InvalidInput,
            "invalid_start_date",
            lambda db, w, start=start: subscriptions.create_subscription(
                db, subscriptions.SubscriptionSpec(w["a"], w["option"], 1, start), "t"
            ),
        )
        for start in (date(1, 1, 1), date(9999, 12, 31))
    ],
    (
        "quantity true",
        InvalidInput,
        "invalid_quantity",
        lambda db, w: subscriptions.create_subscription(
            db, subscriptions.SubscriptionSpec(w["a"], w["option"], True, TODAY), "t"
        ),
    ),
    (
        "term of 10^12 months",
        InvalidInput,
        "invalid_term_months",
        lambda db, w: catalogue.create_product(
            db,
            catalogue.ProductSpec(
                "LONG",
                "Long",
                [
                    catalogue.PricingOptionSpec(
                        "m",
                        BillingCycle.MONTHLY,
                        BillingType.PREPAID,
                        D(1),
                        "EUR",
                        term_months=10**12,
                    )
                ],
            ),
            "t",
        ),
    ),
    *[
        (
            f"currency {code}",
            InvalidInput,
            "unknown_currency",
            lambda db, w, code=code: accounts.create_account(
                db, accounts.AccountSpec("C", "c@x.test", code), "t"
            ),
        )
        for code in ("XXX", "XTS", "XAU")
    ],
    *[
        (
            f"account name {label}",
            InvalidInput,
            "invalid_name",
            lambda db, w, name=name: accounts.create_account(
                db, accounts.AccountSpec(name, "c@x.test", "EUR"), "t"
            ),
        )
        for label, name in (
            ("of a zero width space", "\u200b"),
            ("with a bidi override", "Acme \u202eLtd"),
            ("with an escape sequence", "Acme\x1b]0;owned\x07"),
        )
    ],
    (
        "product code with a control character",
        InvalidInput,
        "invalid_sku",
        lambda db, w: catalogue.create_product(
            db, catalogue.ProductSpec("SKU\t2", "Seat", [_option()]), "t"
        ),
    ),
    (
        "idempotency key of 100,000 characters",
        InvalidInput,
        "invalid_idempotency_key",
        lambda db, w: invoicing.generate_for_account(
            db, w["a"], [w["a_sub"]], TODAY, "t", idempotency_key="k" * 100_000
        ),
    ),
    (
        "billing run as of year 1",
        InvalidInput,
        "invalid_as_of",
        lambda db, w: billing_run.run_billing(db, date(1, 1, 1), TODAY, "t"),
    ),
    (
        "preview as of 9999-12-31",
        InvalidInput,
        "invalid_as_of",
        lambda db, w: invoicing.pending_for_account(db, w["a"], date(9999, 12, 31)),
    ),
    (
        "idempotency key reused with another selection",
        InvalidInput,
        "idempotency_key_reused",
        lambda db, w: invoicing.generate_for_account(
            db, w["b"], [w["b_sub"]], TODAY, "t", idempotency_key="used"
        ),
    ),
]


@pytest.mark.parametrize(("case", "error", "code", "action"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_writes_nothing(
    db: Database,
    case: str,
    error: type[DomainError],
    code: str,
    action: Callable[[Database, dict[str, int]], object],
) -> None:
    world = _world(db)
    # A key first used for account B's own selection, so reusing it for another one is refused.
    invoicing.generate_for_subscription(db, world["b_sub"], TODAY, "t")
    invoicing.generate_for_account(
        db, world["a"], [world["a_sub"]], TODAY, "t", idempotency_key="used"
    )
    before = _counts(db)
    with pytest.raises(error) as raised:
        action(db, world)
    assert raised.value.code == code
    assert raised.value.message  # a sentence for people
    assert _counts(db) == before


def test_refusal_names_every_offending_subscription(db: Database) -> None:
    world = _world(db)
    with pytest.raises(NotFound) as raised:
        invoicing.generate_for_account(db, world["a"], [9998, world["a_sub"], 9999], TODAY, "t")
    assert "9998" in raised.value.message
    assert "9999" in raised.value.message


def test_a_refusal_is_the_first_answer_of_its_key(db: Database) -> None:
    world = _world(db)
    selection = [world["a_sub"], world["ended"]]
    answers = []
    for _ in range(2):
        with pytest.raises(Conflict) as refused:
            invoicing.generate_for_account(db, world["a"], selection, TODAY, "t", "try-1")
        answers.append((refused.value.code, refused.value.message))
    assert answers[0] == answers[1]
    assert answers[0][0] == "nothing_pending"
    # The key is spent on that request: another one with it is refused as such.
    with pytest.raises(InvalidInput) as reused:
        invoicing.generate_for_account(db, world["a"], [world["a_sub"]], TODAY, "t", "try-1")
    assert reused.value.code == "idempotency_key_reused"
    assert _counts(db)[0] == 0
