"""Helpers for the rules, spending and shared-wallet page tests (imported by the test
modules): age a person's web sessions, read stored rules, read a request as the agent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any


def age_sessions(wallet: Any, user_id: str, minutes: int = 30) -> None:
    """Make the person's web sessions old: no longer a fresh confirmation."""
    from sqlalchemy import update

    from linkpay.wallet.store.models import utcnow
    from linkpay.wallet.store.web_models import WebSession

    with wallet.session() as session:
        session.execute(
            update(WebSession)
            .where(WebSession.user_id == user_id)
            .values(created_at=utcnow() - timedelta(minutes=minutes))
        )


def stored_rules(wallet: Any, user_id: str) -> list[Any]:
    from linkpay.wallet.store.policy_models import WalletPolicy

    with wallet.session() as session:
        row = session.get(WalletPolicy, user_id)
        return list(row.rules) if row else []


def agent_view(wallet: Any, token: str, spend_id: str) -> dict[str, Any]:
    with wallet.http(token) as agent:
        return dict(agent.get(f"/spend_requests/{spend_id}", params={"include": "card"}).json())


def forget_step_up(wallet: Any, user_id: str) -> None:
    """Drop any step-up the person's web sessions hold (their data is emptied)."""
    from sqlalchemy import update

    from linkpay.wallet.store.web_models import WebSession

    with wallet.session() as session:
        session.execute(update(WebSession).where(WebSession.user_id == user_id).values(data={}))
