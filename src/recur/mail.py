"""Sending one e-mail through the configured SMTP server (the only SMTP client)."""

import smtplib
import ssl
from email.message import EmailMessage

from recur.domain.delivery import MailSettings, Security

TIMEOUT_SECONDS = 30.0


def send(settings: MailSettings, message: EmailMessage) -> None:
    """Hand `message` to the server; returns once the server has accepted it, raises
    (smtplib.SMTPException, OSError) if it did not."""
    smtp: smtplib.SMTP
    if settings.security is Security.TLS:
        context = ssl.create_default_context()
        smtp = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=TIMEOUT_SECONDS, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS)
    with smtp:
        if settings.security is Security.STARTTLS:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)
