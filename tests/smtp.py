"""A real SMTP server for the tests (aiosmtpd, on a free loopback port): it keeps
what it accepts, and refuses every message while `refusing` is set."""

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from recur.db.session import Database
from recur.services.delivery import MailSettingsSpec, update_mail_settings, update_mail_template
from recur.settings import Settings

# What the services are given for the seller's name and the RECUR_SMTP_* defaults.
ENV = Settings(database_url="sqlite://", secret_key="test-secret")


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class MailServer:
    port: int = 0
    refusing: bool = False
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refusing:
            return "554 5.7.1 refused by the test"
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def use_it(self, db: Database) -> None:
        """Save the settings that send through this server, and documents' templates."""
        update_mail_settings(
            db,
            MailSettingsSpec(
                host="127.0.0.1",
                port=self.port,
                security="none",
                sender="billing@seller.example.com",
                username=None,
                password=None,
            ),
            "test",
            ENV,
        )
        for kind in ("invoice", "credit_note"):
            update_mail_template(
                db,
                kind,
                "{{ document }} {{ number }} for {{ account_name }}",
                "Total {{ total }}, due {{ due_date }}.",
                "test",
            )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer(port=_free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
