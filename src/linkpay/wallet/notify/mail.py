"""Email through the operator's SMTP server (stdlib smtplib). Settings: smtp_host,
smtp_port, smtp_tls (starttls | ssl | none), smtp_user, smtp_password, smtp_from."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from linkpay.wallet.settings import Settings

SMTP_TIMEOUT_SECONDS = 20


def email_enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def _sender(settings: Settings) -> str:
    return settings.smtp_from or settings.smtp_user or "linkpay wallet <wallet@localhost>"


def build_email(
    settings: Settings, *, to: str, subject: str, text: str, message_id: str | None = None
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = _sender(settings)
    msg["To"] = to
    # Header injection is impossible through EmailMessage, but keep subjects one line.
    msg["Subject"] = " ".join(subject.split())[:200]
    # A stable id (outbox deliveries) lets a receiver drop a resend after a crash.
    msg["Message-ID"] = message_id or make_msgid(domain="linkpay.local")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    return msg


def send_email(
    settings: Settings, *, to: str, subject: str, text: str, message_id: str | None = None
) -> None:
    """Send one plain-text email; raises on failure (the caller retries)."""
    msg = build_email(settings, to=to, subject=subject, text=text, message_id=message_id)
    mode = (settings.smtp_tls or "starttls").lower()
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if mode == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=SMTP_TIMEOUT_SECONDS,
            context=context,
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
    with smtp:
        if mode == "starttls":
            smtp.starttls(context=context)
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        smtp.send_message(msg)
