"""What notifications say. Only the approval link and a plain summary (merchant,
amount): never card data, which the notifier never sees anyway. Text that came from an
agent is cleaned of control characters before it goes anywhere."""

from __future__ import annotations

from dataclasses import dataclass

from linkpay.text import clean_text


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    url: str
    tag: str

    def push_payload(self) -> dict[str, str]:
        return {"title": self.title, "body": self.body, "url": self.url, "tag": self.tag}

    def email_text(self) -> str:
        return (
            f"{self.body}\n\nOpen: {self.url}\n\nIf you did not expect this, you can "
            'deny it on that page, or use "Stop everything" in your wallet.\n'
        )


def _one_line(text: str | None, limit: int) -> str:
    flat = " ".join(clean_text(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def spend_approval_message(*, spend_request_id: str, approval_url: str, summary: str) -> Message:
    return Message(
        title="A purchase needs your approval",
        body=f"{_one_line(summary, 300)}\nReview and approve or deny it in your wallet.",
        url=approval_url,
        tag=f"spend-{spend_request_id}",
    )


def device_login_message(*, connection_label: str | None, verification_url: str) -> Message:
    label = _one_line(connection_label, 120) or "An agent"
    return Message(
        title="An agent asks to connect to your wallet",
        body=f"{label} wants to connect. Approve only if you started this and the phrase "
        "matches the one your agent shows.",
        url=verification_url,
        tag="device-login",
    )


def signin_message(*, url: str) -> Message:
    return Message(
        title="Your wallet sign-in link",
        body="Use this link to sign in to your wallet. It works once and expires soon. "
        "If you did not ask for it, ignore this email.",
        url=url,
        tag="signin",
    )
