"""Recording decisions: every answer a card network got, with its reason.

The row in `authorization_decisions` is what activity shows and what sums incremental
authorizations. `record` is also the one place that tells the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.decide.rules import AuthorizationAsk, Decision, decide
from linkpay.wallet.ids import new_id
from linkpay.wallet.store.issuer_models import AuthorizationDecision


def record(
    session: Session, ask: AuthorizationAsk, decision: Decision, now: datetime | None = None
) -> AuthorizationDecision:
    credential, request = decision.credential, decision.spend_request
    row = AuthorizationDecision(
        id=new_id("adec"),
        issuer=ask.issuer,
        authorization_ref=ask.authorization_ref,
        card_ref=ask.card_ref,
        credential_id=credential.id if credential else None,
        spend_request_id=request.id if request else None,
        user_id=request.user_id if request else None,
        amount=ask.amount,
        currency=ask.currency.lower()[:3],
        merchant_name=(ask.merchant_name or "")[:200] or None,
        merchant_url=(ask.merchant_url or "")[:2048] or None,
        approved=decision.approved,
        reason=decision.reason,
        message=decision.message,
        created_at=now or datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    audit.record_event(
        session,
        audit.events.ISSUER_DECISION,
        actor=f"network:{ask.issuer}",
        subject=row.spend_request_id or row.card_ref or row.id,
        user_id=row.user_id,
        data={
            "approved": row.approved,
            "reason": row.reason,
            "message": row.message,
            "amount": row.amount,
            "currency": row.currency,
            "merchant_name": row.merchant_name,
            "authorization": row.authorization_ref,
            "card": row.card_ref,
        },
    )
    return row


def authorize(session: Session, ask: AuthorizationAsk, now: datetime | None = None) -> Decision:
    """Decide and record, in the caller's transaction."""
    decision = decide(session, ask, now)
    record(session, ask, decision, now)
    return decision
