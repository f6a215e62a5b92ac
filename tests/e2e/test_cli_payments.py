"""`recur payment record|undo` and `recur invoice void` (SPEC §18)."""

from tests.e2e.test_cli import acme_url, recur

__all__ = ["acme_url"]  # the fixture, shared


def test_record_undo_and_void_from_the_terminal(acme_url: str) -> None:
    assert recur(acme_url, "billing", "run", "--as-of", "2027-01-11", "--yes").returncode == 0
    # INV-2027-000001: S1's January, 125.00 + 24 % = 155.00.
    recorded = recur(
        acme_url,
        "payment",
        "record",
        "Acme Ltd",
        "--amount",
        "200.00",
        "--allocate",
        "INV-2027-000001=155.00",
        "--reference",
        "SEPA 7",
    )
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stdout.strip() == (
        "payment #1: €200.00 from Acme Ltd, €45.00 left on the account as credit"
    )
    shown = recur(acme_url, "invoice", "INV-2027-000001").stdout
    assert "(invoice, paid, automatic)" in shown
    assert "paid €155.00, open €0.00" in shown

    over = recur(
        acme_url, "payment", "record", "1", "--amount", "1.00", "--allocate", "INV-2027-000001=1.00"
    )
    assert over.returncode == 4
    assert "not an open invoice" in over.stderr
    comma = recur(acme_url, "payment", "record", "1", "--amount", "1,50")
    assert (comma.returncode, "must use a point for decimals" in comma.stderr) == (2, True)

    assert recur(acme_url, "payment", "undo", "1").stdout.strip() == "payment #1 is undone"
    assert "(invoice, unpaid, automatic)" in recur(acme_url, "invoice", "INV-2027-000001").stdout
    assert recur(acme_url, "payment", "undo", "1").returncode == 4

    voided = recur(acme_url, "invoice", "void", "INV-2027-000001")
    assert voided.returncode == 0, voided.stderr
    assert voided.stdout.strip() == (
        "INV-2027-000001 is void: credit note CN-2027-000001 cancels it"
    )
    assert "(credit, paid, manual)" in recur(acme_url, "invoice", "CN-2027-000001").stdout
