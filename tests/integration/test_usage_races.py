"""Usage records arriving while the same subscription is billed, on PostgreSQL.

A billing run or a manual generation reads a subscription's unbilled records and
writes its next charge date; an ingestion stores records and moves that date earlier.
Whatever the order they commit in, no record may be lost (each is billed by a later
run at the latest), none billed twice, and a subscription's next charge date is never
later than the planned date of a record waiting to be billed. The tests hold the
account's lock while both start, so that they really meet, then let them go; a last
test hammers two accounts from several threads.
"""

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy import select, text

from recur.db.models import Account, InvoiceItem, UsageRecord
from recur.db.session import Database
from recur.domain.errors import Conflict
from recur.services import billing_run as billing_run_module
from recur.services import invoicing as invoicing_module
from recur.services import usage
from recur.services.billing_run import run_billing
from recur.services.invoicing import generate_for_account, generate_for_subscription
from tests.integration.factories import ACTOR, account, subscribe
from tests.integration.lifecycle import bill
from tests.integration.usage import azure_option, rec
from tests.integration.usage_oracle import UsagePlan, billed_usage, links, next_charge_dates

pytestmark = pytest.mark.postgres

D = Decimal
START = date(2027, 1, 11)
FINAL = date(2028, 1, 1)


def plan() -> UsagePlan:
    """U1's periods of SPEC §15: billing day 11, delay 3."""
    return UsagePlan(START, 1, 11, 3)


@dataclass
class Shop:
    accounts: list[int]
    subs: list[int]
    sent: dict[str, tuple[int, str, D, date, date]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, db: Database, today: date, records: list[dict[str, object]]) -> None:
        usage.ingest(db, records, today, ACTOR)
        with self.lock:
            for r in records:
                self.sent[str(r["id"])] = (
                    int(str(r["subscription_id"])),
                    str(r["meter"]),
                    D(str(r["quantity"])),
                    date.fromisoformat(str(r["occurred_on"])),
                    today,
                )


def open_shop(db: Database, accounts: int = 1, subs_each: int = 1) -> Shop:
    shop = Shop([], [])
    option = azure_option(db)
    for n in range(accounts):
        acct = account(db, f"Account {n}", billing_day=11)
        shop.accounts.append(acct)
        shop.subs.extend(subscribe(db, acct, option, START) for _ in range(subs_each))
    return shop


def waiting_on_locks(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar_one()
        )


def met_under_the_lock(db: Database, account_id: int, *work: Callable[[], object]) -> list[object]:
    """Run `work` in threads while holding the account's row lock, until all of them wait
    for it (or have nothing to wait for), then let them go; their results (or errors)."""
    results: list[object] = [None] * len(work)

    def call(n: int, job: Callable[[], object]) -> None:
        try:
            results[n] = job()
        except BaseException as error:
            results[n] = error

    with db.engine.connect() as holder:
        holder.execute(select(Account.id).where(Account.id == account_id).with_for_update())
        threads = [
            threading.Thread(target=call, args=(n, j), daemon=True) for n, j in enumerate(work)
        ]
        for thread in threads:
            thread.start()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and thread.is_alive():
                if waiting_on_locks(db) >= threads.index(thread) + 1:
                    break
                time.sleep(0.01)
        holder.rollback()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread never finished (deadlock?)"
    return results


def check_books(db: Database, shop: Shop) -> None:
    """None billed twice: every usage item holds exactly the records linked to it, and the
    records linked are billed once each by construction; none waits behind its next date."""
    for _, _, meter, _, _, quantity, _, ids in billed_usage(db):
        assert ids, "an item without records"
        assert quantity == sum((shop.sent[i][2] for i in ids), D(0))
        assert {shop.sent[i][1] for i in ids} == {meter}
    billed_total = sum((q for *_, q, _, _ in billed_usage(db)), D(0))
    linked = links(db)
    assert billed_total == sum(
        (shop.sent[i][2] for i, item in linked.items() if item is not None), D(0)
    )
    assert set(linked) == set(shop.sent)  # nothing sent and accepted was lost
    dates = next_charge_dates(db)
    for record_id, item in linked.items():
        if item is None:
            sub, _, _, occurred_on, received_on = shop.sent[record_id]
            due = plan().planned(occurred_on, received_on)
            next_date = dates[sub]
            assert next_date is not None, record_id
            assert next_date <= due, (record_id, next_date, due)


def check_all_billed_later(db: Database, shop: Shop) -> None:
    bill(db, FINAL)
    assert None not in links(db).values()
    check_books(db, shop)
    assert bill(db, FINAL) == (0, 0)


@pytest.mark.parametrize("late", [False, True])
def test_records_arriving_while_a_run_bills_their_subscription_are_never_lost(
    pg_db: Database, late: bool
) -> None:
    shop = open_shop(pg_db)
    (acct,), (u1,) = shop.accounts, shop.subs
    shop.send(pg_db, date(2027, 2, 1), [rec("r1", u1, "vm.hours", "120.5", "2027-01-15")])
    for n, today in enumerate([date(2027, 2, 14), date(2027, 3, 14), date(2027, 4, 14)]):
        # Arriving on the run's day: one for the period the run bills (on time), or for
        # the period before (late, so billed with this one), and one for the open period.
        occurred = max(START, today - timedelta(days=40 if late else 4))
        arriving = [
            rec(f"a{n}", u1, "vm.hours", "2.5", occurred.isoformat()),
            rec(f"b{n}", u1, "storage.gb", "7", today.isoformat()),
        ]
        run, sent = met_under_the_lock(
            pg_db,
            acct,
            partial(run_billing, pg_db, today, today, ACTOR),
            partial(shop.send, pg_db, today, arriving),
        )
        assert not isinstance(run, BaseException), run
        assert not isinstance(sent, BaseException), sent
        check_books(pg_db, shop)
        # Whatever went first, a run of the same day now leaves nothing due behind.
        bill(pg_db, today)
        check_books(pg_db, shop)
        assert all(
            plan().planned(shop.sent[r][3], shop.sent[r][4]) > today
            for r, item in links(pg_db).items()
            if item is None
        )
        shop.send(
            pg_db, today + timedelta(days=1), [rec(f"c{n}", u1, "vm.hours", "1", today.isoformat())]
        )
    check_all_billed_later(pg_db, shop)


def test_records_arriving_during_a_manual_generation_are_never_lost(pg_db: Database) -> None:
    shop = open_shop(pg_db)
    (acct,), (u1,) = shop.accounts, shop.subs
    shop.send(pg_db, date(2027, 1, 20), [rec("r1", u1, "vm.hours", "10", "2027-01-15")])
    for n, today in enumerate([date(2027, 1, 25), date(2027, 2, 2), date(2027, 2, 20)]):
        arriving = [
            rec(f"a{n}", u1, "vm.hours", "1.25", (today - timedelta(days=3)).isoformat()),
            rec(f"b{n}", u1, "storage.gb", "3", today.isoformat()),
        ]
        generated, sent = met_under_the_lock(
            pg_db,
            acct,
            partial(generate_for_account, pg_db, acct, [u1], today, ACTOR),
            partial(shop.send, pg_db, today, arriving),
        )
        assert not isinstance(sent, BaseException), sent
        # Nothing pending is a refusal only when the generation went first and found
        # nothing; otherwise it issued what it read, whole.
        assert not isinstance(generated, BaseException) or (
            isinstance(generated, Conflict) and generated.code == "nothing_pending"
        ), generated
        check_books(pg_db, shop)
    check_all_billed_later(pg_db, shop)


def paused(
    monkeypatch: pytest.MonkeyPatch, module: object, name: str
) -> tuple[threading.Event, threading.Event]:
    """Make `module.name` wait, once reached (the engine's inputs read, the account locked),
    until let go: (reached, go)."""
    reached, go = threading.Event(), threading.Event()
    original = getattr(module, name)

    def waiting(*args: object) -> object:
        reached.set()
        assert go.wait(30)
        return original(*args)

    monkeypatch.setattr(module, name, waiting)
    return reached, go


@pytest.mark.parametrize("door", ["run", "manual"])
def test_a_batch_arriving_after_a_billing_read_the_subscription_waits_for_it(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch, door: str
) -> None:
    """The interleaving that would lose a record: a run (or a generation) has read the
    subscription's records when a batch for it arrives. The batch waits for the account,
    so the next charge date the billing writes never hides the batch's records."""
    shop = open_shop(pg_db)
    (acct,), (u1,) = shop.accounts, shop.subs
    today = date(2027, 2, 14)
    shop.send(pg_db, date(2027, 2, 1), [rec("r1", u1, "vm.hours", "120.5", "2027-01-15")])

    def billing() -> object:
        if door == "run":
            return run_billing(pg_db, today, today, ACTOR)
        return generate_for_account(pg_db, acct, [u1], today, ACTOR)

    seam = (
        (billing_run_module, "plan_account")
        if door == "run"
        else (invoicing_module, "manual_invoices")
    )
    reached, go = paused(monkeypatch, *seam)
    outcome: list[object] = []
    biller = threading.Thread(target=lambda: outcome.append(billing()), daemon=True)
    biller.start()
    assert reached.wait(30)
    arriving = [
        rec("a1", u1, "vm.hours", "2.5", "2027-02-10"),  # on time: planned today
        rec("b1", u1, "storage.gb", "7", "2027-02-14"),  # the open period: 14 Mar
    ]
    sender = threading.Thread(target=lambda: shop.send(pg_db, today, arriving), daemon=True)
    sender.start()
    deadline = time.monotonic() + 10
    while sender.is_alive() and waiting_on_locks(pg_db) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    go.set()
    for thread in (biller, sender):
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in (biller, sender))
    assert outcome
    assert set(shop.sent) == {"r1", "a1", "b1"}
    billed = {r for r, item in links(pg_db).items() if item is not None}
    # A run sweeps again before it ends: it bills a1 too if the batch committed by then.
    assert billed in ({"r1"}, {"r1", "a1"}) if door == "run" else billed == {"r1"}
    check_books(pg_db, shop)  # a1 due today, b1 on 14 Mar: the next date says so
    assert next_charge_dates(pg_db)[u1] == (date(2027, 3, 14) if "a1" in billed else today)
    check_all_billed_later(pg_db, shop)


THREADS = 6


def hammer(
    url: str, shop: Shop, seed: int, start: threading.Barrier, failures: list[BaseException]
) -> None:
    rng = random.Random(seed)
    db = Database(url)
    try:
        start.wait()
        for step in range(12):
            today = date(2027, 3, 14)
            what = rng.choice(["send", "send", "send", "run", "manual", "manual_account"])
            sub = rng.choice(shop.subs)
            try:
                if what == "send":
                    records = [
                        rec(
                            f"s{seed}-{step}-{k}",
                            rng.choice(shop.subs),
                            rng.choice(["vm.hours", "storage.gb"]),
                            f"{rng.randint(0, 10**6)}.{rng.randint(0, 999999):06}",
                            (
                                START + timedelta(days=rng.randint(0, (today - START).days))
                            ).isoformat(),
                        )
                        for k in range(rng.randint(1, 30))
                    ]
                    shop.send(db, today, records)
                elif what == "run":
                    assert run_billing(db, today, today, ACTOR).errors_count == 0
                elif what == "manual":
                    generate_for_subscription(db, sub, today, ACTOR)
                else:
                    acct = shop.accounts[shop.subs.index(sub) // 2]
                    mine = [
                        s for n, s in enumerate(shop.subs) if n // 2 == shop.accounts.index(acct)
                    ]
                    generate_for_account(db, acct, mine, today, ACTOR)
            except Conflict as refused:
                if refused.code != "nothing_pending":
                    raise
    except BaseException as error:
        failures.append(error)
    finally:
        db.dispose()


@pytest.mark.parametrize("seed", [1, 2])
def test_ingestion_runs_and_generations_racing_bill_every_record_once(
    pg_db: Database, postgres_url: str, seed: int
) -> None:
    shop = open_shop(pg_db, accounts=2, subs_each=2)
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)
    threads = [
        threading.Thread(
            target=hammer, args=(postgres_url, shop, seed * 100 + n, start, failures), daemon=True
        )
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread never finished (deadlock?)"
    assert failures == []
    assert shop.sent, "no batch went through: the race proved nothing"
    check_books(pg_db, shop)
    bill(pg_db, date(2027, 3, 14))
    check_books(pg_db, shop)
    with pg_db.read() as session:
        assert session.scalar(select(InvoiceItem.id).where(InvoiceItem.kind == "usage")) is not None
        unbilled = session.scalars(
            select(UsageRecord.id).where(UsageRecord.invoice_item_id.is_(None))
        )
        for record_id in unbilled:
            _, _, _, occurred_on, received_on = shop.sent[record_id]
            assert plan().planned(occurred_on, received_on) > date(2027, 3, 14), record_id
    check_all_billed_later(pg_db, shop)


def test_batches_for_one_account_do_not_wait_for_each_other_but_a_biller_waits_for_them(
    pg_db: Database,
) -> None:
    """A batch shares its accounts' locks: another batch of the same account goes on
    while it is open, and a run's claim passes the account by until it commits."""
    shop = open_shop(pg_db)
    (acct,), (u1,) = shop.accounts, shop.subs
    with pg_db.engine.connect() as open_batch:  # a batch still open, as ingest takes it
        open_batch.execute(select(Account.id).where(Account.id == acct).with_for_update(read=True))
        other = threading.Thread(
            target=lambda: shop.send(
                pg_db, date(2027, 2, 1), [rec("r1", u1, "vm.hours", "1", "2027-01-15")]
            ),
            daemon=True,
        )
        other.start()
        other.join(timeout=10)
        assert not other.is_alive()  # stored while the first batch is open
        with pg_db.transaction() as session:
            claimable = session.execute(
                select(Account.id).where(Account.id == acct).with_for_update(skip_locked=True)
            ).all()
        assert claimable == []  # a run's claim skips the account until the batch ends
        open_batch.rollback()
    assert set(links(pg_db)) == {"r1"}
