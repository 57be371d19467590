"""Where a new spend request meets the person's policy: limits refuse it (a 4xx
naming the limit), a rule approves it at once (credential issued in the same
transaction), denies it, or leaves it to the person. The decision is stored beside
the request and every approval holds its amount in the budget ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.binding import material_hash_of_columns
from linkpay.wallet.policy import service as policy
from linkpay.wallet.policy.figures import budget_figures, limit_figures
from linkpay.wallet.spend.states import KEEP_KEY
from linkpay.wallet.spend.windows import credential_deadline
from linkpay.wallet.store.models import SpendRequest, User


def facts_for_new(
    session: Session,
    person: User,
    agent: str | None,
    columns: dict[str, Any],
    now: datetime,
    loaded: policy.Policy,
) -> policy.Facts:
    return policy.facts_of(
        session,
        user_id=person.id,
        agent=agent,
        amount=columns["amount"],
        currency=columns["currency"],
        credential_type=columns["credential_type"],
        merchant_url=columns["merchant_url"],
        network_id=columns["network_id"],
        line_items=len(columns["line_items"] or []),
        at=now,
        policy=loaded,
    )


def assess_new(
    session: Session, person: User, agent: str | None, columns: dict[str, Any], now: datetime
) -> policy.Assessment:
    """The policy's answer for a new request; raises the refusal's 4xx."""
    loaded = policy.load_policy(session, person)
    facts = facts_for_new(session, person, agent, columns, now, loaded)
    assessment = policy.assess(session, person, facts, now, policy=loaded)
    if assessment.refusal is not None:
        raise policy.refusal_error(assessment.refusal)
    return assessment


def initial_values(
    assessment: policy.Assessment, columns: dict[str, Any], *, settings: Any, now: datetime
) -> dict[str, Any]:
    """Status and decision columns of the new row under the policy's decision."""
    action = assessment.decision.action
    if action == "auto_approve":
        return {
            "status": "approved",
            "approval_hash": material_hash_of_columns(columns),
            "decided_at": now,
            "credential_valid_until": credential_deadline(now, settings, columns["expires_at"]),
        }
    if action == "deny":
        return {"status": "denied", "decided_at": now}
    return {"status": "created"}


def after_insert(
    session: Session, row: SpendRequest, assessment: policy.Assessment, now: datetime
) -> None:
    """Store the decision; an auto-approval holds its amount in the ledger."""
    decision = assessment.decision
    by = "policy" if decision.action in ("auto_approve", "deny") else None
    record = policy.record_decision(
        session, row, decision, by=by, merchant=assessment.facts.merchant, now=now
    )
    # Held for the transaction: the session's identity map keeps objects only weakly,
    # and the create's answer reads this decision next (found there, not queried).
    session.info.setdefault(KEEP_KEY, []).append(record)
    if decision.action == "auto_approve":
        policy.hold(session, row, assessment.facts, now)
    if by == "policy":  # the person reads why in their activity
        audit.record_event(
            session,
            audit.events.POLICY_DECISION,
            actor=audit.events.SYSTEM,
            subject=row.id,
            user_id=row.user_id,
            data={
                "action": decision.action,
                "rule": decision.rule,
                "reason": decision.reason,
                "amount": row.amount,
                "currency": row.currency,
                "merchant_name": row.merchant_name,
            },
        )


def hold_delegated(session: Session, row: SpendRequest, now: datetime) -> None:
    """A request approved elsewhere still counts against limits and budgets."""
    policy.reserve_for_approval(session, row, now)
    policy.decided_by_person(session, row, person_id=row.user_id, verdict="approved", now=now)


def dry_run(
    session: Session, person: User, agent: str | None, columns: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """What create would decide for these columns, with the remaining limits and
    budgets; nothing is written."""

    loaded = policy.load_policy(session, person)
    facts = facts_for_new(session, person, agent, columns, now, loaded)
    assessment = policy.assess(session, person, facts, now, lock=False, policy=loaded)
    refusal = assessment.refusal
    decision = assessment.decision
    return {
        "outcome": "refused" if refusal is not None else decision.action,
        "rule": None if refusal is not None else decision.rule,
        "reason": refusal.message if refusal is not None else decision.reason,
        "approvers_required": decision.approvers_required,
        "refusal": (
            {"code": refusal.code, "message": refusal.message, **refusal.body_extra()}
            if refusal is not None
            else None
        ),
        "limits": limit_figures(assessment.policy, assessment.usage, facts.currency),
        "budgets": budget_figures(session, person.id, assessment.policy, now, facts),
    }
