"""What counts against the count limits (`policy.usage.counts`), read through two
indexes: active requests of the person (any agent), and the creates of this agent only,
in the last hour and the last 60 days (any status). Run on both databases."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from linkpay.wallet.policy.usage import counts
from linkpay.wallet.store.models import SpendRequest, utcnow

AGENT, OTHER = "fam_counted", "fam_other"


def _request(user_id: str, family: str | None, status: str, age: timedelta, **extra: Any) -> Any:
    now = utcnow()
    return SpendRequest(
        id=f"lsrq_{secrets.token_hex(8)}",
        user_id=user_id,
        token_family_id=family,
        status=status,
        credential_type="card",
        amount=100,
        currency="usd",
        merchant_name="Shop",
        merchant_url="https://shop.example",
        context="counted",
        line_items=[],
        totals=[],
        version=1,
        created_at=now - age,
        updated_at=now - age,
        **extra,
    )


def test_counts_read_the_active_requests_and_this_agents_creates(wallet: Any) -> None:
    person = wallet.create_user(f"usage-{secrets.token_hex(4)}@example.com")
    now = utcnow()
    minutes, days = timedelta(minutes=1), timedelta(days=1)
    later, earlier = now + days, now - minutes
    rows = [
        # this agent: 3 in the last hour, 1 more within 60 days, 1 older
        _request(person, AGENT, "created", 5 * minutes, approval_expires_at=later),
        _request(person, AGENT, "approved", 10 * minutes, credential_valid_until=later),
        _request(person, AGENT, "canceled", 20 * minutes),  # counts as a create only
        _request(person, AGENT, "succeeded", 2 * days),
        _request(person, AGENT, "succeeded", 70 * days),
        # awaiting a decision past its window, or approved past its card: not active
        _request(person, AGENT, "created", 70 * days, approval_expires_at=earlier),
        _request(person, AGENT, "approved", 70 * days, credential_valid_until=earlier),
        # another agent: active for the person, never this agent's creates
        _request(person, OTHER, "pending_approval", minutes, approval_expires_at=later),
        _request(person, OTHER, "approved", minutes, credential_valid_until=later),
        # no agent (the person's own): the no-agent counts
        _request(person, None, "created", minutes, approval_expires_at=later),
    ]
    stranger = wallet.create_user(f"usage-{secrets.token_hex(4)}@example.com")
    with wallet.session() as session:
        session.add_all(rows)
    with wallet.session() as session:
        # (active, approved and unused, this agent's creates in 1 hour, in 60 days)
        assert counts(session, person, AGENT, now) == (5, 2, 3, 4)
        assert counts(session, person, OTHER, now) == (5, 2, 2, 2)
        assert counts(session, person, None, now) == (5, 2, 1, 1)
        assert counts(session, stranger, AGENT, now) == (0, 0, 0, 0)
