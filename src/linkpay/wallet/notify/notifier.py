"""The wallet's notifier: fans one event out to every channel the person has (email,
each subscribed browser, each apprise URL, the operator's apprise URLs). Each delivery
is its own background job, retried on failure, so one broken channel neither blocks the
request nor stops the others."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from linkpay.wallet.jobs.worker import JobWorker
from linkpay.wallet.notify.channels import operator_urls, send_apprise
from linkpay.wallet.notify.dispatch import Dispatcher
from linkpay.wallet.notify.mail import email_enabled, send_email
from linkpay.wallet.notify.messages import (
    Message,
    device_login_message,
    signin_message,
    spend_approval_message,
)
from linkpay.wallet.notify.outbox_jobs import enqueue_notification
from linkpay.wallet.notify.vault import open_channel_url
from linkpay.wallet.notify.webpush import SubscriptionGone, send_push
from linkpay.wallet.store.models import User
from linkpay.wallet.store.web_models import NotificationChannel, PushSubscription

log = logging.getLogger("linkpay.wallet.notify")


def _parse_delays(raw: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in str(raw).split(",") if part.strip())
    except ValueError:
        return (2.0, 10.0, 60.0)


class WalletNotifier:
    """Implements `linkpay.wallet.notify.Notifier`."""

    def __init__(self, settings: Any, sessionmaker: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.dispatcher = Dispatcher(_parse_delays(settings.notify_retry_seconds))
        # The durable outbox's worker (set by create_app): when present, approval and
        # device-login notifications go through the outbox instead of the dispatcher.
        self.jobs: JobWorker | None = None

    def enqueue_spend_approval(
        self,
        session: Session,
        *,
        user_id: str,
        spend_request_id: str,
        approval_url: str,
        summary: str,
    ) -> bool:
        """Queue the approval notification in the caller's transaction (the outbox):
        it exists exactly when the request does. False when there is no outbox."""
        if self.jobs is None:
            return False
        message = spend_approval_message(
            spend_request_id=spend_request_id, approval_url=approval_url, summary=summary
        )
        enqueue_notification(session, user_id, message)
        return True

    def wake_jobs(self) -> None:
        if self.jobs is not None:
            self.jobs.wake()

    # --- Notifier protocol -----------------------------------------------------------

    def spend_request_needs_approval(
        self, *, user_id: str, spend_request_id: str, approval_url: str, summary: str
    ) -> None:
        message = spend_approval_message(
            spend_request_id=spend_request_id, approval_url=approval_url, summary=summary
        )
        self._fan_out(user_id, message)

    def device_login_started(
        self, *, connection_label: str | None, verification_url: str, user_id: str | None = None
    ) -> None:
        message = device_login_message(
            connection_label=connection_label, verification_url=verification_url
        )
        if self.jobs is not None:
            try:
                with self.sessionmaker() as session, session.begin():
                    enqueue_notification(session, user_id, message)
            except Exception:  # never let notification trouble reach the request
                log.exception("could not queue notification %s", message.tag)
            self.jobs.wake()
            return
        self._fan_out(user_id, message)

    # --- Extras used by the web app --------------------------------------------------

    def send_signin_email(self, *, email: str, url: str) -> None:
        message = signin_message(url=url)
        self.dispatcher.submit(
            "email:signin",
            lambda: send_email(
                self.settings, to=email, subject=message.title, text=message.email_text()
            ),
        )

    def wait_idle(self, timeout: float = 10.0) -> bool:
        jobs_idle = self.jobs.wait_idle(timeout) if self.jobs is not None else True
        return self.dispatcher.wait_idle(timeout) and jobs_idle

    def close(self) -> None:
        self.dispatcher.stop()
        if self.jobs is not None:
            self.jobs.stop()

    # --- internals -------------------------------------------------------------------

    def _fan_out(self, user_id: str | None, message: Message) -> None:
        # Even the recipient lookup runs in the background: the caller may still hold
        # its transaction open, and must not wait on our database reads either.
        try:
            self.dispatcher.submit(
                f"resolve:{message.tag}", lambda: self._deliver_to_recipients(user_id, message)
            )
        except Exception:  # never let notification trouble reach the request
            log.exception("could not queue notification %s", message.tag)

    def _recipient_ids(self, session: Session, user_id: str | None) -> list[str]:
        if user_id is not None:
            return [user_id]
        # A device login has no known user yet: on a single-person wallet that person is
        # the only one who can approve it; on a shared wallet, tell nobody (no spam).
        ids = list(session.scalars(select(User.id).limit(2)))
        return ids if len(ids) == 1 else []

    def _deliver_to_recipients(self, user_id: str | None, message: Message) -> None:
        vault = self.settings.card_vault()
        with self.sessionmaker() as session:
            for uid in self._recipient_ids(session, user_id):
                user = session.get(User, uid)
                if user is None:
                    continue
                if email_enabled(self.settings) and user.email:
                    self._queue_email(user.email, message)
                for sub in session.scalars(
                    select(PushSubscription).where(PushSubscription.user_id == uid)
                ):
                    self._queue_push(
                        sub.id,
                        {
                            "endpoint": sub.endpoint,
                            "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
                        },
                        message,
                    )
                for channel in session.scalars(
                    select(NotificationChannel).where(NotificationChannel.user_id == uid)
                ):
                    try:
                        url = open_channel_url(vault, channel.id, channel.url_ciphertext)
                    except Exception:
                        log.error("notification channel %s cannot be decrypted", channel.id)
                        continue
                    self._queue_apprise(f"apprise:{channel.id}", url, message)
        for index, url in enumerate(operator_urls(self.settings)):
            self._queue_apprise(f"apprise:operator{index}", url, message)

    def _queue_email(self, to: str, message: Message) -> None:
        self.dispatcher.submit(
            f"email:{message.tag}",
            lambda: send_email(
                self.settings, to=to, subject=message.title, text=message.email_text()
            ),
        )

    def _queue_push(self, sub_id: str, subscription: dict[str, Any], message: Message) -> None:
        def run() -> None:
            try:
                send_push(self.settings, subscription, message.push_payload())
            except SubscriptionGone:
                with self.sessionmaker() as session, session.begin():
                    session.execute(delete(PushSubscription).where(PushSubscription.id == sub_id))
                log.info("push subscription %s is gone; removed", sub_id)

        self.dispatcher.submit(f"push:{sub_id}", run)

    def _queue_apprise(self, name: str, url: str, message: Message) -> None:
        body = f"{message.body}\n{message.url}"
        self.dispatcher.submit(name, lambda: send_apprise(url, title=message.title, body=body))
