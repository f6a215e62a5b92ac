"""A billing process killed (SIGKILL) inside an issuing transaction that carries
adjustments leaves only whole documents, and the next run issues the rest once."""

import signal
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

from recur.db.session import Database

from .factories import account, invoices, subscribe
from .lifecycle import (
    Timeline,
    assert_documents_whole,
    bill,
    billed_per_day,
    change,
    expected_per_day,
    option,
)

D = Decimal
MAR1, MAR10 = date(2027, 3, 1), date(2027, 3, 10)
ACCOUNTS = 12
KILL_AT = 7

DOOMED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import date

    from sqlalchemy import text

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
        # Everything of this batch is written, nothing committed: say how many
        # adjustments the transaction sees (its own included), then pull the plug.
        seen = writes.session.scalar(
            text("SELECT count(*) FROM invoice_items WHERE kind = 'adjustment'")
        )
        print(seen, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    FinalWrites.commit = commit_or_die
    run_billing(Database(url), date(2027, 3, 10), date(2027, 3, 10), "doomed", batch_size=1)
    """
)


def test_a_killed_run_issuing_adjustments_leaves_whole_documents(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    seats = option(db, "Seats", "30.00")
    subs: dict[int, tuple[int, Timeline]] = {}
    for n in range(ACCOUNTS):
        acct = account(db, f"Customer {n}", billing_day=1, tax_rate="20")
        more = subscribe(db, acct, seats, date(2027, 1, 1), quantity=10)
        fewer = subscribe(db, acct, seats, date(2027, 1, 1), quantity=5)
        subs[more] = (acct, Timeline(date(2027, 1, 1), 10, seats))
        subs[fewer] = (acct, Timeline(date(2027, 1, 1), 5, seats))
    bill(db, MAR1)
    # Each account's run on 10 Mar issues an invoice (+2 seats) and a credit note (−3).
    for sid, (_, timeline) in subs.items():
        quantity = timeline.quantity + 2 if timeline.quantity == 10 else timeline.quantity - 3
        timeline.add(change(db, sid, MAR10, quantity=quantity))
    script = tmp_path / "doomed_run.py"
    script.write_text(DOOMED_RUN)

    doomed = subprocess.run(
        [sys.executable, str(script), db_url, str(KILL_AT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert doomed.returncode == -signal.SIGKILL, doomed.stderr
    assert_documents_whole(db)
    adjusted = Counter(
        (inv.account_id, inv.type) for inv in invoices(db) if inv.issue_date == MAR10
    )
    stored = sum(len(inv.items) for inv in invoices(db) if inv.issue_date == MAR10)
    # The transaction killed carried adjustments that were never committed.
    assert int(doomed.stdout.split()[-1]) > stored
    # batch_size=1: the accounts before the fatal one have both documents, no other has any.
    accounts_done = {acct for acct, _ in adjusted}
    assert len(accounts_done) == KILL_AT - 1
    assert set(adjusted.values()) == {1}
    assert len(adjusted) == 2 * (KILL_AT - 1)

    bill(db, MAR10)

    adjusted = Counter(
        (inv.account_id, inv.type) for inv in invoices(db) if inv.issue_date == MAR10
    )
    assert adjusted == {
        (acct, kind): 1 for acct, _ in subs.values() for kind in ("invoice", "credit")
    }
    for sid, (_, timeline) in subs.items():
        billed = billed_per_day(db, sid, {D("30.00"): seats})
        assert billed == expected_per_day(timeline, sorted(billed))
    # +2 × 30.00 × 22/31 = 42.58 and −3 × 30.00 × 22/31 = −63.87, once per account.
    amounts = Counter(
        D(i.amount) for inv in invoices(db) if inv.issue_date == MAR10 for i in inv.items
    )
    assert amounts == {D("42.58"): ACCOUNTS, D("-63.87"): ACCOUNTS}
    assert_documents_whole(db, {acct: D(20) for acct, _ in subs.values()})
