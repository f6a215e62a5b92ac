"""Migration 0016 on data written before it: accounts' delivery options move onto the
account, the single template pair becomes the invoice's and the credit note's, and the
downgrade puts both back."""

import json
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from recur.db.migrate import alembic_config
from tests.conftest import database_at

ROWS_AT_0014 = [
    *(
        "INSERT INTO accounts (id, name, email, currency, partial_charges, invoice_grouping, "
        f"payment_terms_days, tax_rate, status) VALUES ({i}, 'A{i}', 'a{i}@x.example', 'EUR', "
        "'on_order_day', 'consolidated', 30, 0, 'active')"
        for i in (1, 2)
    ),
    "INSERT INTO account_delivery (account_id, billing_email, cc_emails, auto_send) VALUES "
    """(1, 'ap@x.example', '["cc@x.example"]', true)""",
    "INSERT INTO mail_settings (id, host, port, security, sender, subject_template, "
    "body_template) VALUES (1, 'smtp.x', 25, 'none', 'b@x.example', 'S {{ number }}', 'B')",
]


@pytest.fixture(params=["sqlite", "postgres"])
def url_at_0014(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = database_at(request.param, "0014", tmp_path, "recur_0016")
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in ROWS_AT_0014:
            connection.execute(text(statement))
    engine.dispose()
    return url


def test_delivery_options_and_templates_survive_the_migration_both_ways(url_at_0014: str) -> None:
    command.upgrade(alembic_config(url_at_0014), "0016")
    engine = create_engine(url_at_0014)
    with engine.connect() as connection:
        accounts = connection.execute(
            text("SELECT id, billing_email, cc_emails, auto_send FROM accounts ORDER BY id")
        ).all()
        templates = connection.execute(
            text("SELECT kind, subject, body FROM mail_templates ORDER BY kind")
        ).all()
    assert [(a.id, a.billing_email, _list(a.cc_emails), bool(a.auto_send)) for a in accounts] == [
        (1, "ap@x.example", ["cc@x.example"], True),
        (2, None, [], False),
    ]
    assert [tuple(t) for t in templates] == [
        ("credit_note", "S {{ number }}", "B"),
        ("invoice", "S {{ number }}", "B"),
    ]

    command.downgrade(alembic_config(url_at_0014), "0014")
    with engine.connect() as connection:
        kept = connection.execute(
            text("SELECT account_id, billing_email, auto_send FROM account_delivery ORDER BY 1")
        ).all()
        settings = connection.execute(text("SELECT subject_template FROM mail_settings")).all()
    engine.dispose()
    assert [(k[0], k[1], bool(k[2])) for k in kept] == [
        (1, "ap@x.example", True),
        (2, None, False),
    ]
    assert settings == [("S {{ number }}",)]


def _list(value: object) -> object:
    """A JSON column as read back without the model: text on SQLite, a list on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value
