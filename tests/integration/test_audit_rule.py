"""Every state change writes exactly one audit event (SPEC §19), as a structural rule
(db/audit.py): this walks every state-changing service, found by scanning services/,
and calls each one on both databases.

A new service that takes an `actor` but is not an `@action`, or an action without a
scenario here, fails `test_every_state_changing_service_is_an_action_with_a_scenario`.
"""

import contextlib
import importlib
import inspect
import pkgutil
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

import recur.services
from recur.clock import FixedClock
from recur.db import audit
from recur.db.models import AuditEvent
from recur.db.session import Database
from recur.domain.audit import Door
from recur.domain.catalogue import BillingCycle, BillingType, CancelAt
from recur.domain.errors import Conflict
from recur.domain.identity import NO_ADDRESS, Seller
from recur.domain.receivables import AllocationSpec, PaymentSpec, RefundSpec
from recur.domain.roles import Role
from recur.scheduler import BillingSchedule
from recur.services import (
    accounts,
    billing_run,
    catalogue,
    changes,
    delivery,
    forecast,
    invoicing,
    payments,
    seller,
    sessions,
    sign_in,
    statements,
    subscriptions,
    tokens,
    usage,
    users,
)
from recur.services import audit as audit_reads
from recur.settings import Settings
from tests.integration.factories import ACTOR, account, product, subscribe
from tests.integration.usage import rec, usage_subscription

TODAY = date(2027, 1, 11)
START = date(2027, 1, 1)
D = Decimal
PASSWORD = "correct horse battery"
ENV = Settings(secret_key="audit-test")

# A scenario sets up what its action needs and returns the call to count.
Call = Callable[[], object]
Scenario = Callable[[Database], Call]


def _billed(db: Database) -> tuple[int, int, int]:
    """(account, subscription, invoice): a month billed on the 1st."""
    acme = account(db)
    sub = subscribe(db, acme, product(db, unit_price="31.00"), START)
    [invoice] = invoicing.generate_for_account(db, acme, [sub], START, ACTOR).invoices
    return acme, sub, invoice.id


def _credit_note(db: Database) -> tuple[int, int]:
    """(account, credit note) of the month's unused days, after a cancellation."""
    acme, sub, _ = _billed(db)
    subscriptions.cancel_subscription(db, sub, CancelAt.NOW, TODAY, ACTOR)
    [note] = invoicing.generate_for_account(db, acme, [sub], TODAY, ACTOR).invoices
    return acme, note.id


def _one_time_invoice(db: Database, acme: int) -> int:
    sub = subscribe(db, acme, product(db, unit_price="5.00", cycle=BillingCycle.ONE_TIME), TODAY)
    [invoice] = invoicing.generate_for_account(db, acme, [sub], TODAY, ACTOR).invoices
    return invoice.id


def _user(db: Database, email: str = "ann@example.com") -> int:
    return users.create_user(db, email, Role.ADMIN, PASSWORD, ACTOR).id


def _payment(acme: int, invoice_id: int, amount: str) -> PaymentSpec:
    allocation = (AllocationSpec(invoice_id, D(amount)),)
    return PaymentSpec(acme, D(amount), "EUR", TODAY, "bank_transfer", "REF-1", allocation)


def _withdraw(db: Database) -> Call:
    _, sub, _ = _billed(db)
    spec = changes.ChangeSpec(quantity=2, effective="end_of_period")
    change = changes.change_subscription(db, sub, spec, TODAY, ACTOR)
    return lambda: changes.withdraw_change(db, sub, change.id, TODAY, ACTOR)


def _undo(db: Database) -> Call:
    acme, _, invoice = _billed(db)
    paid = payments.record_payment(db, _payment(acme, invoice, "31.00"), ACTOR, TODAY)
    return lambda: payments.undo_payment(db, paid.id, ACTOR)


def _apply(db: Database) -> Call:
    acme, note = _credit_note(db)
    invoice = _one_time_invoice(db, acme)
    return lambda: payments.apply_credit_note(db, note, invoice, D("5.00"), ACTOR)


def _refund(db: Database) -> Call:
    _, note = _credit_note(db)
    refund = RefundSpec(D("1.00"), TODAY, "R-1")
    return lambda: payments.refund_credit_note(db, note, refund, ACTOR, TODAY)


def _undo_application(db: Database) -> Call:
    acme, note = _credit_note(db)
    payments.apply_credit_note(db, note, _one_time_invoice(db, acme), D("5.00"), ACTOR)
    [used] = payments.credit_note_uses(db, note)[1]
    return lambda: payments.undo_credit_application(db, used.id, ACTOR)


def _undo_refund(db: Database) -> Call:
    _, note = _credit_note(db)
    payments.refund_credit_note(db, note, RefundSpec(D("1.00"), TODAY, "R-1"), ACTOR, TODAY)
    [refund] = payments.credit_note_uses(db, note)[2]
    return lambda: payments.undo_refund(db, refund.id, ACTOR)


def _statement(db: Database) -> Call:
    acme = _billed(db)[0]
    return lambda: statements.send_statement(db, acme, START, TODAY, ACTOR)


def _option(db: Database) -> tuple[int, int]:
    """(product, its pricing option), on sale and used by no subscription."""
    option = product(db)
    return catalogue.get_pricing_option(db, option).product_id, option


def _archived(db: Database) -> tuple[int, int]:
    product_id, option = _option(db)
    catalogue.archive_pricing_option(db, product_id, option, ACTOR)
    return product_id, option


def _new_option(db: Database) -> Call:
    product_id, _ = _option(db)
    spec = catalogue.PricingOptionSpec(
        "annual", BillingCycle.ANNUAL, BillingType.PREPAID, D("100.00"), "EUR"
    )
    return lambda: catalogue.add_pricing_options(db, product_id, [spec], ACTOR)


def _sign_out(db: Database) -> Call:
    _user(db)
    signed_in = sign_in.sign_in(db, "ann@example.com", PASSWORD, "127.0.0.1", sign_in.throttle(0))
    return lambda: sessions.end(db, signed_in.secret)


def _revoke(db: Database) -> Call:
    principal, _ = tokens.create_token(db, Role.VIEWER, "ci", ACTOR)
    return lambda: tokens.revoke_token(db, principal.token_id, ACTOR)


def _ingest(db: Database) -> Call:
    sub = usage_subscription(db)
    batch = [rec("r1", sub, "vm.hours", "2.5", "2027-01-11")]
    return lambda: usage.ingest(db, batch, TODAY, ACTOR)


def _seller(db: Database) -> Call:
    spec = Seller("Recur Ltd", NO_ADDRESS, None, None, None, None, None, None)
    return lambda: seller.update_seller(db, spec, ACTOR)


def _mail(db: Database) -> Call:
    spec = delivery.MailSettingsSpec(
        "127.0.0.1", 2525, "starttls", "billing@example.com", None, None
    )
    return lambda: delivery.update_mail_settings(db, spec, ACTOR, ENV)


def _forecast(db: Database) -> Call:
    def start_and_wait() -> None:
        job = forecast.start_book_forecast(db, TODAY, 1, ACTOR)
        # Its child process writes documents, not events; waited for so the test's database
        # outlives it.
        while forecast.get_job(db, job.id).status == "running":
            time.sleep(0.05)

    return start_and_wait


SCENARIOS: dict[Callable[..., Any], Scenario] = {
    accounts.create_account: lambda db: lambda: account(db, "Beta"),
    accounts.update_account: lambda db: (
        lambda acme: lambda: accounts.update_account(db, acme, {"name": "Acme plc"}, ACTOR)
    )(account(db)),
    catalogue.create_product: lambda db: lambda: product(db),
    catalogue.update_product: lambda db: (
        lambda ids: (
            lambda: catalogue.update_product(
                db, ids[0], catalogue.ProductChanges(name="Office 365 E5"), ACTOR
            )
        )
    )(_option(db)),
    catalogue.add_pricing_options: _new_option,
    catalogue.archive_pricing_option: lambda db: (
        lambda ids: lambda: catalogue.archive_pricing_option(db, *ids, ACTOR)
    )(_option(db)),
    catalogue.unarchive_pricing_option: lambda db: (
        lambda ids: lambda: catalogue.unarchive_pricing_option(db, *ids, ACTOR)
    )(_archived(db)),
    catalogue.change_prices: lambda db: (
        lambda ids: (
            lambda: catalogue.change_prices(
                db, *ids, catalogue.PriceChanges(unit_price=D("12.00")), ACTOR
            )
        )
    )(_option(db)),
    subscriptions.create_subscription: lambda db: (
        lambda acme, option: lambda: subscribe(db, acme, option, START)
    )(account(db), product(db)),
    subscriptions.cancel_subscription: lambda db: (
        lambda sub: (
            lambda: subscriptions.cancel_subscription(db, sub, CancelAt.END_OF_PERIOD, TODAY, ACTOR)
        )
    )(_billed(db)[1]),
    changes.change_subscription: lambda db: (
        lambda sub: (
            lambda: changes.change_subscription(
                db, sub, changes.ChangeSpec(quantity=3), TODAY, ACTOR
            )
        )
    )(_billed(db)[1]),
    changes.withdraw_change: _withdraw,
    invoicing.generate_for_account: lambda db: (
        lambda acme: (
            lambda sub: lambda: invoicing.generate_for_account(db, acme, [sub], TODAY, ACTOR)
        )(subscribe(db, acme, product(db), START))
    )(account(db)),
    invoicing.generate_for_subscription: lambda db: (
        lambda sub: lambda: invoicing.generate_for_subscription(db, sub, TODAY, ACTOR)
    )(subscribe(db, account(db), product(db), START)),
    billing_run.run_billing: lambda db: (
        lambda _sub: lambda: billing_run.run_billing(db, TODAY, TODAY, "scheduler")
    )(subscribe(db, account(db), product(db), START)),
    payments.record_payment: lambda db: (
        lambda billed: (
            lambda: payments.record_payment(
                db, _payment(billed[0], billed[2], "10.00"), ACTOR, TODAY
            )
        )
    )(_billed(db)),
    payments.pay_in_full: lambda db: (
        lambda invoice: lambda: payments.pay_in_full(db, invoice, ACTOR, TODAY)
    )(_billed(db)[2]),
    payments.undo_payment: _undo,
    payments.apply_credit_note: _apply,
    payments.refund_credit_note: _refund,
    payments.void_invoice: lambda db: (
        lambda invoice: lambda: payments.void_invoice(db, invoice, ACTOR, TODAY)
    )(_billed(db)[2]),
    delivery.update_mail_settings: _mail,
    delivery.update_mail_template: lambda db: (
        lambda: delivery.update_mail_template(db, "invoice", "{{ number }}", "Hello", ACTOR)
    ),
    payments.undo_credit_application: _undo_application,
    payments.undo_refund: _undo_refund,
    statements.send_statement: _statement,
    delivery.send_document: lambda db: (
        lambda invoice: lambda: delivery.send_document(db, invoice, ACTOR)
    )(_billed(db)[2]),
    seller.update_seller: _seller,
    usage.ingest: _ingest,
    users.create_user: lambda db: lambda: _user(db),
    users.set_disabled: lambda db: (
        lambda _admin, bob: lambda: users.set_disabled(db, bob, True, ACTOR)
    )(_user(db), _user(db, "bob@example.com")),
    users.change_password: lambda db: (
        lambda ann: lambda: users.change_password(db, ann, PASSWORD, "another good phrase", ACTOR)
    )(_user(db)),
    users.reset_password: lambda db: (
        lambda ann: lambda: users.reset_password(db, ann, "another good phrase", ACTOR)
    )(_user(db)),
    sign_in.sign_in: lambda db: (
        lambda _ann: (
            lambda: sign_in.sign_in(
                db, "ann@example.com", PASSWORD, "127.0.0.1", sign_in.throttle(0)
            )
        )
    )(_user(db)),
    sessions.end: _sign_out,
    tokens.create_token: lambda db: lambda: tokens.create_token(db, Role.VIEWER, "ci", ACTOR),
    tokens.ensure_token: lambda db: (
        lambda: tokens.ensure_token(db, "env", "rk_secret-of-the-environment", Role.ADMIN, "system")
    ),
    tokens.revoke_token: _revoke,
    forecast.start_book_forecast: _forecast,
}


def _state_changing_services() -> dict[str, Callable[..., Any]]:
    """Every public function of services/ that takes an `actor` (and opens its own unit
    of work), and every `@action`."""
    found = dict(audit.ACTIONS)
    for module_info in pkgutil.iter_modules(recur.services.__path__):
        module = importlib.import_module(f"recur.services.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            parameters = inspect.signature(function).parameters
            # A step that takes the session runs inside another service's unit of work.
            if "actor" in parameters and "session" not in parameters:
                found.setdefault(f"{module.__name__}.{name}", function)
    return found


def _name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__name__}"


def test_every_state_changing_service_is_an_action_with_a_scenario() -> None:
    services = _state_changing_services()
    not_actions = sorted(name for name, f in services.items() if audit.ACTIONS.get(name) is not f)
    assert not_actions == [], "state-changing services that are not @action"
    without_scenario = sorted(set(services) - {_name(f) for f in SCENARIOS})
    assert without_scenario == [], "add a scenario to SCENARIOS"


def _events(db: Database) -> list[tuple[str, str]]:
    query = select(AuditEvent.action, AuditEvent.door).order_by(AuditEvent.id)
    with db.read() as session:
        return [(action, door) for action, door in session.execute(query)]


@pytest.mark.parametrize("service", list(SCENARIOS), ids=_name)
def test_each_state_changing_service_writes_exactly_one_event(
    db: Database, service: Callable[..., Any]
) -> None:
    call = SCENARIOS[service](db)
    before = _events(db)
    call()
    written = _events(db)[len(before) :]
    assert len(written) == 1, written
    [(_action, door)] = written
    assert door == Door.CLI  # called directly: the command line's door


def test_previews_and_reads_write_no_event(db: Database) -> None:
    acme, sub, invoice = _billed(db)
    before = _events(db)
    changes.preview_change(db, sub, changes.ChangeSpec(quantity=2), TODAY)
    changes.preview_cancellation(db, sub, CancelAt.NOW, TODAY)
    invoicing.pending_for_account(db, acme, TODAY)
    invoicing.get_invoice(db, invoice)
    accounts.list_accounts(db)
    assert _events(db) == before


def test_a_refused_call_writes_no_event(db: Database) -> None:
    _, _, invoice = _billed(db)
    payments.void_invoice(db, invoice, ACTOR, TODAY)
    before = _events(db)
    with pytest.raises(Conflict):
        payments.void_invoice(db, invoice, ACTOR, TODAY)
    assert _events(db) == before


def test_an_event_outside_an_action_is_refused_and_rolled_back(db: Database) -> None:
    with pytest.raises(audit.AuditRuleBroken, match="outside an action"):
        db.run(lambda session: audit.record(session, ACTOR, "account.poked", "account", 1))
    assert _events(db) == []


@pytest.fixture
def actions_kept() -> Iterator[None]:
    """The registry as it was: the actions a test defines leave with it."""
    kept = dict(audit.ACTIONS)
    yield
    audit.ACTIONS.clear()
    audit.ACTIONS.update(kept)


@pytest.mark.usefixtures("actions_kept")
def test_a_second_event_is_refused_before_its_transaction_commits(db: Database) -> None:
    acme = account(db)

    @audit.action
    def poke_twice(db: Database) -> None:
        def work(session: Any) -> None:
            audit.record(session, ACTOR, "account.poked", "account", acme)
            audit.record(session, ACTOR, "account.poked", "account", acme)

        db.run(work)

    before = _events(db)
    with pytest.raises(audit.AuditRuleBroken, match="second event"):
        poke_twice(db)
    assert _events(db) == before


@pytest.mark.usefixtures("actions_kept")
def test_an_action_that_writes_without_an_event_fails(db: Database) -> None:
    acme = account(db)

    @audit.action
    def rename_quietly(db: Database) -> None:
        db.run(lambda session: accounts.stored.update_account(session, acme, {"name": "Quiet"}))

    with pytest.raises(audit.AuditRuleBroken, match="without an audit event"):
        rename_quietly(db)


def test_an_action_that_changes_nothing_writes_nothing(db: Database) -> None:
    bob = users.create_user(db, "bob@example.com", Role.VIEWER, PASSWORD, ACTOR)
    before = _events(db)
    users.set_disabled(db, bob.id, False, ACTOR)  # already enabled
    assert _events(db) == before


def test_events_are_counted_per_door(db: Database) -> None:
    with audit.entered_by(Door.SCHEDULER):
        account(db)
    with audit.entered_by(Door.API):
        account(db, "Beta")
    assert [door for _, door in _events(db)] == ["scheduler", "api"]


@pytest.mark.usefixtures("actions_kept")
def test_what_a_rolled_back_transaction_wrote_does_not_count(db: Database) -> None:
    acme = account(db)

    @audit.action
    def rename_then_refuse(db: Database) -> None:
        def work(session: Any) -> None:
            accounts.stored.update_account(session, acme, {"name": "Gone"})
            raise RuntimeError("refused after writing")

        with contextlib.suppress(RuntimeError):
            db.run(work)

    rename_then_refuse(db)  # wrote nothing that stayed: no event needed
    assert accounts.get_account(db, acme).name == "Acme Ltd"


def test_the_scheduled_run_comes_in_through_the_scheduler(db: Database) -> None:
    subscribe(db, account(db), product(db), START)
    before = _events(db)

    BillingSchedule(db, FixedClock(TODAY), 3600).run_once()

    assert _events(db)[len(before) :] == [("billing_run.finished", "scheduler")]


def test_an_accounts_activity_takes_in_its_documents_and_no_one_elses(db: Database) -> None:
    acme, sub, invoice = _billed(db)
    paid = payments.record_payment(db, _payment(acme, invoice, "31.00"), ACTOR, TODAY)
    _billed(db)  # another account's

    activity = audit_reads.activity(db, "account", acme)

    assert [(e.action, e.subject_type, e.subject_id) for e in activity.items] == [
        ("payment.recorded", "payment", paid.id),
        ("invoices.generated", "account", acme),
        ("subscription.created", "subscription", sub),
        ("account.created", "account", acme),
    ]
    assert activity.total == 4
    assert {e.door for e in activity.items} == {Door.CLI}
