"""Telling the person a spend request waits for them, once the transaction that put
it there commits (a failing channel never fails the request). With the wallet's
notifier the notification is a job in the durable outbox, written in that same
transaction (`notify.outbox_jobs`)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from linkpay.money import format_figures
from linkpay.text import one_line
from linkpay.wallet.connections import agent_summary
from linkpay.wallet.policy.quorum import deciders
from linkpay.wallet.spend.after_commit import call_after_commit
from linkpay.wallet.spend.serialize import approval_url
from linkpay.wallet.store.models import SpendRequest
from linkpay.wallet.store.policy_models import SpendDecision

log = logging.getLogger("linkpay.wallet.spend")


def _summary(
    row: SpendRequest, agent_label: str | None = None, *, approvals: int = 1, of: int = 1
) -> str:
    """One line for a notification: who gets how much, which agent asks and, on a
    shared wallet, how many approvals it needs. Merchant and agent text are untrusted."""
    payee = row.merchant_name or row.network_id or "a merchant"
    line = f"{one_line(payee)[:80]}: {format_figures(row.amount, row.currency)}"
    if agent_label:
        line += f" (asked by {one_line(agent_label)[:80]})"
    if approvals > 1:
        line += f"; needs {approvals} of the {of} approvers"
    return line


def _agent_label(session: Session, row: SpendRequest) -> str | None:

    agent = agent_summary(session, row.user_id, row.token_family_id)
    return agent.label if agent else None


def notify_after_commit(session: Session, row: SpendRequest, settings: Any, notifier: Any) -> None:
    """Tell the wallet's owner and, on a shared wallet, every approver."""
    if notifier is None:
        return
    told = deciders(session, row.user_id)
    decision = session.get(SpendDecision, row.id)
    needed = decision.approvers_required if decision is not None else 1
    summary = _summary(row, _agent_label(session, row), approvals=needed or 1, of=len(told))
    for user_id in told:
        _notify_one(session, row, user_id, summary, settings, notifier)


def _notify_one(
    session: Session, row: SpendRequest, user_id: str, summary: str, settings: Any, notifier: Any
) -> None:
    kwargs = {
        "user_id": user_id,
        "spend_request_id": row.id,
        "approval_url": approval_url(settings, row.id),
        "summary": summary,
    }

    enqueue = getattr(notifier, "enqueue_spend_approval", None)
    if enqueue is not None and enqueue(session, **kwargs):
        # In the durable outbox with this transaction; wake the worker once it commits.
        call_after_commit(session, notifier.wake_jobs)
        return

    def send() -> None:
        try:
            notifier.spend_request_needs_approval(**kwargs)
        except Exception:  # noqa: BLE001 - a failing channel never fails the request
            log.warning("notifier failed for spend request %s", kwargs["spend_request_id"])

    call_after_commit(session, send)
