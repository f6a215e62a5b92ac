"""`recur usage import` and `recur usage show`, run as a user would (SPEC §13)."""

from pathlib import Path

from sqlalchemy import select

from recur.db.models import UsageRecord
from recur.db.session import Database
from tests.e2e.test_cli import recur
from tests.integration.usage import usage_subscription

HEADER = "id,subscription_id,meter,quantity,occurred_on\n"


def stored_ids(url: str) -> list[str]:
    db = Database(url)
    try:
        with db.read() as session:
            return sorted(session.scalars(select(UsageRecord.id)))
    finally:
        db.dispose()


def test_import_is_all_or_nothing_and_show_lists_the_records(db_url: str, tmp_path: Path) -> None:
    db = Database(db_url)
    sub = usage_subscription(db)
    db.dispose()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + f"r1,{sub},vm.hours,120.5,2027-01-15\n" + f"r2,{sub},gpu,1,2027-01-15\n"
    )
    refused = recur(db_url, "usage", "import", str(bad), today="2027-02-01")
    assert refused.returncode == 2
    assert "line 3 (id 'r2')" in refused.stderr
    assert stored_ids(db_url) == []

    good = tmp_path / "good.csv"
    # Columns in any order; the same record twice is a duplicate.
    good.write_text(
        "occurred_on,id,meter,quantity,subscription_id\n"
        + f"2027-01-15,r1,vm.hours,120.5,{sub}\n"
        + f"2027-01-31,r2,vm.hours,300,{sub}\n"
        + f"2027-01-31,r2,vm.hours,300,{sub}\n"
    )
    done = recur(db_url, "usage", "import", str(good), today="2027-02-01")
    assert done.returncode == 0, done.stderr
    assert "accepted: 2, duplicates: 1" in done.stdout
    assert "storing" in done.stderr  # the progress bar

    shown = recur(db_url, "usage", "show", str(sub), today="2027-02-01")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[2].split()[:3] == ["r1", "vm.hours", "120.5"]
    assert "15 Jan 2027" in lines[2]
    assert lines[3].split()[:3] == ["r2", "vm.hours", "300"]


def test_import_in_batches_reports_the_batches_refused(db_url: str, tmp_path: Path) -> None:
    db = Database(db_url)
    sub = usage_subscription(db)
    db.dispose()
    rows = [f"r{i},{sub},vm.hours,1,2027-01-15\n" for i in range(1, 7)]
    rows[3] = f"r4,{sub},vm.hours,-1,2027-01-15\n"  # the second batch's first record
    file = tmp_path / "batches.csv"
    file.write_text(HEADER + "".join(rows))
    result = recur(db_url, "usage", "import", str(file), "--batch", "3", today="2027-02-01")
    assert result.returncode == 6
    assert "accepted: 3" in result.stdout
    assert "batch 2 (lines 5–7): line 5 (id 'r4')" in result.stderr
    assert stored_ids(db_url) == ["r1", "r2", "r3"]
