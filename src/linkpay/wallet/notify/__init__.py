"""Notifications to the person (email, web push, apprise). The spend service and device
login call a `Notifier`; a failing channel never blocks the request."""

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


class Notifier(Protocol):
    def spend_request_needs_approval(
        self, *, user_id: str, spend_request_id: str, approval_url: str, summary: str
    ) -> None:
        """Tell the person a purchase waits for them. Must not raise, must not block."""

    def device_login_started(
        self, *, connection_label: str | None, verification_url: str, user_id: str | None = None
    ) -> None:
        """Tell the person an agent asks to connect (only when the user is known)."""

    def send_signin_email(self, *, email: str, url: str) -> None:
        """Email a one-time sign-in link (the web app checked that email is on)."""

    def close(self) -> None:
        """Stop background deliveries (the app is shutting down)."""


class NullNotifier:
    """Sends nothing; the default until channels are configured."""

    def spend_request_needs_approval(
        self, *, user_id: str, spend_request_id: str, approval_url: str, summary: str
    ) -> None:
        return None

    def device_login_started(
        self, *, connection_label: str | None, verification_url: str, user_id: str | None = None
    ) -> None:
        return None

    def send_signin_email(self, *, email: str, url: str) -> None:
        return None

    def close(self) -> None:
        return None


def build_notifier(settings: Any, sessionmaker: "sessionmaker[Session]") -> Notifier:
    """The wallet's notifier: email (when smtp_host is set), web push to every subscribed
    browser, the person's apprise URLs and the operator's `notify_urls`. Deliveries run
    on a background thread with retries (`notify.notifier.WalletNotifier`)."""
    from linkpay.wallet.notify.notifier import WalletNotifier

    return WalletNotifier(settings, sessionmaker)
