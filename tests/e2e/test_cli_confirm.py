"""`recur generate` and `recur billing run` show what they will issue and ask first
(--yes skips the question, --dry-run only shows); --json on every command; account
names in any case, with near names suggested; the list commands."""

import json
import re
from decimal import Decimal
from typing import Any

import typer

from recur.cli import app
from tests.e2e.test_cli import acme_url, recur  # noqa: F401  (acme_url: the fixture)

ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# Long-running processes: nothing to print for a script.
SERVERS = {"serve", "worker"}


def _invoice_total(url: str) -> int:
    listed = recur(url, "invoices", "--json")
    assert listed.returncode == 0, listed.stderr
    return int(json.loads(listed.stdout)["total"])


def test_generate_asks_before_it_issues(acme_url: str) -> None:  # noqa: F811
    before = _invoice_total(acme_url)
    declined = recur(acme_url, "generate", "acme ltd", "-s", "1", "-s", "3", input="n\n")
    assert declined.returncode == 1
    # S1's January and February (nothing was billed yet) and S3's January, issued today.
    assert "in all, EUR: subtotal €350.00, tax €84.00, total €434.00" in declined.stdout
    assert "Issue this document? [y/N]" in declined.stdout
    assert declined.stdout.splitlines()[-1].endswith("nothing changed")
    assert _invoice_total(acme_url) == before

    dry = recur(acme_url, "generate", "Acme Ltd", "-s", "1", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "[y/N]" not in dry.stdout
    assert "11 Feb 2027 – 10 Mar 2027" in dry.stdout
    assert _invoice_total(acme_url) == before

    accepted = recur(acme_url, "generate", "Acme Ltd", "-s", "1", "-s", "3", input="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.splitlines()[-1].endswith(
        "issued INV-2027-000001 dated 2027-01-15: €434.00"
    )
    assert _invoice_total(acme_url) == before + 1


def test_generate_for_scripts(acme_url: str) -> None:  # noqa: F811
    dry = recur(acme_url, "generate", "ACME LTD", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    shown = json.loads(dry.stdout)
    assert shown["dry_run"] is True
    assert shown["issued"] == []
    assert shown["account"] == {"id": 1, "name": "Acme Ltd"}
    totals = shown["totals"]["EUR"]
    assert all(isinstance(totals[k], str) for k in ("subtotal", "tax", "total"))
    documents = shown["documents"]
    assert sum(float(d["totals"]["total"]) for d in documents) == float(totals["total"])

    done = recur(acme_url, "generate", "Acme Ltd", "-s", "1", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    [issued] = answer["issued"]
    assert re.fullmatch(r"INV-2027-\d{6}", issued["number"])
    assert issued["total"] == answer["totals"]["EUR"]["total"] == "310.00"  # 2 × 125.00 + 24 %

    refused = recur(acme_url, "generate", "Acme Ltd", "-s", "99", "--yes", "--json")
    assert refused.returncode == 3
    assert json.loads(refused.stderr) == {
        "error": {"code": "subscription_not_found", "message": "subscriptions 99 do not exist"}
    }


def test_billing_run_shows_its_dry_run_first(acme_url: str) -> None:  # noqa: F811
    dry = recur(acme_url, "billing", "run", "--as-of", "2027-01-11", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    preview = json.loads(dry.stdout)
    assert preview["run"] is None
    assert preview["preview"]["accounts"] == 1
    [document] = preview["preview"]["documents"]
    assert document["issue_date"] == "2027-01-11"
    assert _invoice_total(acme_url) == 0

    declined = recur(acme_url, "billing", "run", "--as-of", "2027-01-11", input="n\n")
    assert declined.returncode == 1
    assert "would issue 1 document for 1 account" in declined.stdout
    assert _invoice_total(acme_url) == 0

    run = recur(acme_url, "billing", "run", "--as-of", "2027-01-11", "--yes", "--json")
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["run"]["invoices_issued"] == 1
    assert answer["preview"]["totals"] == preview["preview"]["totals"]
    assert _invoice_total(acme_url) == 1


def test_account_names_in_any_case_and_near_names(acme_url: str) -> None:  # noqa: F811
    assert recur(acme_url, "pending", "aCME lTD").returncode == 0
    near = recur(acme_url, "pending", "Acme Lt")
    assert near.returncode == 3
    assert near.stderr.strip() == (
        "error: no account 'Acme Lt'; did you mean 'Acme Ltd'? (account_not_found)"
    )


def test_list_commands_and_one_date_format(acme_url: str) -> None:  # noqa: F811
    assert recur(acme_url, "billing", "run", "--as-of", "2027-01-11", "--yes").returncode == 0
    for command, expected in (
        ("accounts", "Acme Ltd"),
        ("subscriptions", "Cloud Backup 1 TB"),
        ("products", "Azure usage"),
        ("invoices", "INV-2027-000001"),
        ("pending", "Acme Ltd"),
    ):
        args = (command, "Acme Ltd") if command == "pending" else (command,)
        table = recur(acme_url, *args)
        assert table.returncode == 0, table.stderr
        assert expected in table.stdout
        assert not ISO_DAY.search(table.stdout), (command, table.stdout)  # 11 Jan 2027 only
        if command != "pending":
            page = json.loads(recur(acme_url, *args, "--json").stdout)
            assert set(page) == {"items", "total", "next_cursor", "prev_cursor", "sort"}, command
            assert page["items"], command
    subs = json.loads(recur(acme_url, "subscriptions", "--account", "acme ltd", "--json").stdout)
    assert subs["total"] == 3
    assert Decimal(subs["items"][0]["pricing_option"]["unit_price"]) == Decimal("12.50")


def test_every_command_takes_json() -> None:
    root = typer.main.get_command(app)

    def leaves(command: Any, path: str) -> list[tuple[str, Any]]:
        """Each runnable command under `command` (a group has subcommands), by its words."""
        if hasattr(command, "commands"):
            return [
                leaf
                for name, sub in command.commands.items()
                for leaf in leaves(sub, f"{path} {name}".strip())
            ]
        return [(path, command)]

    commands = leaves(root, "")
    assert len(commands) > 20
    missing = [
        path
        for path, command in commands
        if path not in SERVERS and not any("--json" in p.opts for p in command.params)
    ]
    assert not missing, missing
