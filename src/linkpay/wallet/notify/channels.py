"""Apprise channels (ntfy, Slack, Discord, Telegram, json:// webhooks…): the person's own
URLs (encrypted in `web_notification_channels`) and the operator's `notify_urls`."""

from __future__ import annotations

from urllib.parse import urlsplit

from linkpay.wallet.settings import Settings


def describe_apprise_url(url: str) -> str:
    """A display form without secrets: `scheme://host/…`."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "invalid URL"
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}/…" if host else f"{parts.scheme}://…"


def validate_apprise_url(url: str) -> str | None:
    """None if apprise understands the URL, else a message for the person."""
    import apprise

    url = url.strip()
    if not url or len(url) > 2000:
        return "Enter a notification URL (at most 2000 characters)."
    if apprise.Apprise().add(url) is False:
        return "That URL is not one apprise understands (for example ntfys://ntfy.sh/topic)."
    return None


def send_apprise(url: str, *, title: str, body: str) -> None:
    """Send through one apprise URL; raises when apprise reports failure."""
    import apprise

    sender = apprise.Apprise()
    if not sender.add(url):
        raise ValueError("unusable apprise URL")
    if not sender.notify(title=title, body=body):
        raise RuntimeError("apprise could not deliver the notification")


def operator_urls(settings: Settings) -> list[str]:
    return settings.notify_urls.get_secret_value().split()
