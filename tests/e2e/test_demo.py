"""`recur demo`: only into an empty embedded database, with sign-ins nobody else knows."""

import re
from pathlib import Path

from recur.db.session import Database
from recur.domain.catalogue import BillingType
from recur.domain.usage import UsageRecord
from recur.services import accounts, catalogue, subscriptions, usage, users
from tests.e2e.test_cli import recur

PUBLISHED = {"recur-admin", "recur-operator", "recur-viewer"}
SIGN_IN = re.compile(r"^\s+(\w+)\s+(\S+@recur\.local)\s+password: (\S+)$", re.MULTILINE)


def test_the_demo_loads_once_with_random_passwords_and_make_run_can_run_again(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert recur(url, "db", "upgrade").returncode == 0

    loaded = recur(url, "demo", "--if-empty")  # as `make run` does, the first time
    assert loaded.returncode == 0, loaded.stderr
    signins = SIGN_IN.findall(loaded.stdout)
    assert [role for role, _, _ in signins] == ["admin", "operator", "viewer"]
    passwords = {password for _, _, password in signins}
    assert len(passwords) == 3
    assert not passwords & PUBLISHED
    db = Database(url)
    for _, email, password in signins:
        assert users.authenticate(db, email, password) is not None
        assert users.authenticate(db, email, f"recur-{email.split('@')[0]}") is None
    _assert_azure_usage_billed_and_pending(db)
    db.dispose()

    again = recur(url, "demo", "--if-empty")  # `make run`, the second time
    assert again.returncode == 0, again.stderr
    assert "already has data" in again.stdout
    assert "password" not in again.stdout

    refused = recur(url, "demo")
    assert refused.returncode != 0
    assert "already has data" in refused.stderr
    assert "--force" in refused.stderr


def test_the_demo_refuses_a_database_with_any_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'used.sqlite3'}"
    assert recur(url, "db", "upgrade").returncode == 0
    created = recur(url, "user", "create", "boss@acme.test", "--password", "a-long-password")
    assert created.returncode == 0, created.stderr

    refused = recur(url, "demo")
    assert refused.returncode != 0
    assert "already has data" in refused.stderr


def test_the_demo_refuses_postgresql_without_force(postgres_url: str) -> None:
    for args in (["demo"], ["demo", "--if-empty"]):
        refused = recur(postgres_url, *args)
        assert refused.returncode != 0
        assert "PostgreSQL" in refused.stderr
        assert "--force" in refused.stderr
    db = Database(postgres_url)
    assert users.list_users(db) == []
    db.dispose()


def _assert_azure_usage_billed_and_pending(db: Database) -> None:
    """Acme's Azure plan is sold by usage: months of daily records, some received late,
    the past periods billed (a late record on a later invoice than its period's) and the
    current period's records waiting for theirs."""
    acme = accounts.find_account(db, "Acme Ltd")
    subs = subscriptions.list_subscriptions(db, account_id=acme.id, limit=100).items
    azure = next(s for s in subs if s.pricing_option.billing_type == BillingType.USAGE)
    option = catalogue.get_pricing_option(db, azure.pricing_option.id)
    assert {m.code for m in option.meters} == {"vm.hours", "storage.gb"}
    assert option.usage_delay_days == 3
    records: list[UsageRecord] = []
    cursor: str | None = ""
    while cursor is not None:
        page = usage.list_usage(db, azure.id, limit=100, cursor=cursor or None)
        records += page.items
        cursor = page.next_cursor
    assert len(records) > 200  # about four months, two meters a day
    billed = [r for r in records if r.invoice_id is not None]
    assert billed  # past periods issued
    assert len(billed) < len(records)  # the current period pending
    # Storage arrives the next day: its invoice is its period's own.
    invoice_of_day = {r.occurred_on: r.invoice_id for r in billed if r.meter == "storage.gb"}
    late_on_a_later_invoice = [
        r for r in billed if r.meter == "vm.hours" and r.invoice_id != invoice_of_day[r.occurred_on]
    ]
    assert late_on_a_later_invoice
    assert all((r.received_on - r.occurred_on).days > 3 for r in late_on_a_later_invoice)
