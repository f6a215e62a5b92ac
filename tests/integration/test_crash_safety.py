"""Failures and crashes never leave half an invoice, and the next run bills the rest once.

(a) the engine failing for one account is recorded and the others are billed;
(b) an error inside the issuing transaction, after its invoices, items and
    ledger rows were written, rolls all of them back;
(c) a billing process killed (SIGKILL) inside that transaction, before commit.
"""

import signal
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

import recur.services.billing_run as billing_run
from recur.db.final_writes import FinalWrites
from recur.db.session import Database
from recur.domain.catalogue import BillingCycle
from recur.domain.invoices import AccountTerms, PendingInvoice, SubscriptionState
from recur.services.billing_run import get_billing_run, run_billing

from .books import assert_books_balanced
from .factories import ACTOR, account, invoices, ledger, product, subscribe

T = date(2027, 3, 1)
# Per account: a monthly plan from 1 Jan (Jan, Feb, Mar) and a quarterly one from
# 15 Jan with a setup fee (setup + [15 Jan, 15 Apr)): five ledger rows by T.
ROWS_PER_ACCOUNT = 5


def open_accounts(db: Database, count: int) -> list[int]:
    monthly = product(db, "Seats", unit_price="12.50")
    quarterly = product(
        db, "Backup", cycle=BillingCycle.QUARTERLY, unit_price="90.00", setup_fee="50.00"
    )
    accounts = []
    for n in range(count):
        acct = account(db, f"Customer {n}", tax_rate="24")
        subscribe(db, acct, monthly, date(2027, 1, 1), quantity=2)
        subscribe(db, acct, quarterly, date(2027, 1, 15))
        accounts.append(acct)
    return accounts


def rows_by_account(db: Database) -> Counter[int]:
    owner = {i.id: inv.account_id for inv in invoices(db) for i in inv.items}
    return Counter(owner[row.invoice_item_id] for row in ledger(db))


def test_an_account_the_engine_fails_on_is_recorded_and_the_others_billed(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = open_accounts(db, 4)
    doomed = accounts[1]
    plan = billing_run.plan_account

    def fail_for_one(
        acct: AccountTerms, states: list[SubscriptionState], as_of: date
    ) -> list[PendingInvoice]:
        if acct.account_id == doomed:
            raise RuntimeError("engine exploded")
        return plan(acct, states, as_of)

    monkeypatch.setattr(billing_run, "plan_account", fail_for_one)
    first = run_billing(db, T, today=T, triggered_by=ACTOR, batch_size=2)

    assert first.status == "completed"
    assert first.errors_count == 1
    (error,) = get_billing_run(db, first.id).errors
    assert (error.account_id, error.code) == (doomed, "RuntimeError")
    assert "engine exploded" in error.message
    assert rows_by_account(db) == {a: ROWS_PER_ACCOUNT for a in accounts if a != doomed}

    monkeypatch.setattr(billing_run, "plan_account", plan)
    second = run_billing(db, T, today=T, triggered_by=ACTOR)

    assert second.errors_count == 0
    assert {inv.account_id for inv in invoices(db) if inv.billing_run_id == second.id} == {doomed}
    assert rows_by_account(db) == dict.fromkeys(accounts, ROWS_PER_ACCOUNT)
    assert_books_balanced(db)


@pytest.mark.parametrize("persistent", [False, True], ids=["transient", "persistent"])
def test_an_error_after_the_inserts_rolls_back_the_whole_batch(
    db: Database, monkeypatch: pytest.MonkeyPatch, persistent: bool
) -> None:
    accounts = open_accounts(db, 6)
    commit = FinalWrites.commit
    calls = 0

    def fail_from_second_batch(writes: FinalWrites) -> None:
        nonlocal calls
        calls += 1
        if calls == 2 or (persistent and calls > 2):
            writes.send()  # invoices, items, ledger rows and cursors reach the database
            raise RuntimeError("disk on fire")
        commit(writes)

    monkeypatch.setattr(FinalWrites, "commit", fail_from_second_batch)
    first = run_billing(db, T, today=T, triggered_by=ACTOR, batch_size=2)

    assert_books_balanced(db)  # no invoice without items, no ledger row without its item
    billed = rows_by_account(db)
    assert set(billed.values()) == {ROWS_PER_ACCOUNT}
    if persistent:
        # The first batch committed; every later account failed alone and was recorded.
        assert set(billed) == set(accounts[:2])
        assert first.errors_count == 4
        assert {e.account_id for e in get_billing_run(db, first.id).errors} == set(accounts[2:])
    else:
        # The failed batch was retried account by account, and each went through.
        assert set(billed) == set(accounts)
        assert first.errors_count == 0

    monkeypatch.setattr(FinalWrites, "commit", commit)
    run_billing(db, T, today=T, triggered_by=ACTOR)

    assert rows_by_account(db) == dict.fromkeys(accounts, ROWS_PER_ACCOUNT)
    assert_books_balanced(db)


DOOMED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import date

    from recur.db.final_writes import FinalWrites
    from recur.db.session import Database
    from recur.services.billing_run import run_billing

    url, kill_at = sys.argv[1], int(sys.argv[2])
    commit, calls = FinalWrites.commit, 0

    def commit_or_die(writes):
        global calls
        calls += 1
        if calls < kill_at:
            return commit(writes)
        writes.send()
        # everything of this batch is written, nothing committed: pull the plug
        os.kill(os.getpid(), signal.SIGKILL)

    FinalWrites.commit = commit_or_die
    run_billing(Database(url), date(2027, 3, 1), date(2027, 3, 1), "doomed", batch_size=1)
    """
)


def test_a_killed_billing_process_leaves_only_whole_invoices(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    accounts = open_accounts(db, 40)
    kill_at = 17
    script = tmp_path / "doomed_run.py"
    script.write_text(DOOMED_RUN)

    doomed = subprocess.run(
        [sys.executable, str(script), db_url, str(kill_at)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert doomed.returncode == -signal.SIGKILL, doomed.stderr
    assert_books_balanced(db)
    billed = rows_by_account(db)
    # batch_size=1: the batches before the fatal one committed, that one did not
    assert len(billed) == kill_at - 1
    assert set(billed.values()) == {ROWS_PER_ACCOUNT}

    run_billing(db, T, today=T, triggered_by=ACTOR)

    assert rows_by_account(db) == dict.fromkeys(accounts, ROWS_PER_ACCOUNT)
    assert len(ledger(db)) == 40 * ROWS_PER_ACCOUNT
    assert_books_balanced(db)
