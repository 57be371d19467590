"""Shared wallets: several people on one wallet (its owner's user id), each with a
role — owner (everything), approver (decides purchases), viewer (reads). A rule may
require M approvers; each vote is a row, cast under the wallet lock so concurrent
votes count each other. One deny ends the request unless the rule says otherwise
(then it ends only when the quorum can no longer be reached). A quorum not reached
within the approval window expires with the request."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.wallet.errors import Conflict, Forbidden
from linkpay.wallet.policy import ledger
from linkpay.wallet.store.models import User, utcnow
from linkpay.wallet.store.policy_models import SpendApproval, SpendDecision, WalletMember

ROLES = ("owner", "approver", "viewer")
DECIDERS = ("owner", "approver")


def role_in(session: Session, wallet_user_id: str, user_id: str) -> str | None:
    if wallet_user_id == user_id:
        return "owner"
    return session.scalar(
        select(WalletMember.role).where(
            WalletMember.wallet_user_id == wallet_user_id, WalletMember.member_user_id == user_id
        )
    )


def add_member(session: Session, wallet_user_id: str, member_user_id: str, role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if wallet_user_id == member_user_id:
        raise ValueError("the owner is already on their wallet")
    existing = session.scalar(
        select(WalletMember).where(
            WalletMember.wallet_user_id == wallet_user_id,
            WalletMember.member_user_id == member_user_id,
        )
    )
    if existing is not None:
        existing.role = role
    else:
        session.add(
            WalletMember(wallet_user_id=wallet_user_id, member_user_id=member_user_id, role=role)
        )
    session.flush()


def deciders(session: Session, wallet_user_id: str) -> list[str]:
    """User ids who may decide purchases on this wallet (owner first)."""
    members = session.scalars(
        select(WalletMember.member_user_id).where(
            WalletMember.wallet_user_id == wallet_user_id, WalletMember.role.in_(DECIDERS)
        )
    ).all()
    return [wallet_user_id, *members]


def wallets_of(session: Session, user_id: str) -> list[str]:
    """The wallets `user_id` is a member of (not their own)."""
    return list(
        session.scalars(
            select(WalletMember.wallet_user_id).where(WalletMember.member_user_id == user_id)
        )
    )


def quorum_of(session: Session, spend_request_id: str) -> SpendDecision | None:
    record = session.get(SpendDecision, spend_request_id)
    if record is None or record.by is not None or record.approvers_required <= 1:
        return None
    return record


@dataclass(frozen=True)
class Vote:
    user_id: str
    email: str
    name: str | None
    vote: str


def votes(session: Session, spend_request_id: str) -> list[Vote]:
    rows = session.execute(
        select(SpendApproval.user_id, User.email, User.name, SpendApproval.vote)
        .join(User, User.id == SpendApproval.user_id)
        .where(SpendApproval.spend_request_id == spend_request_id)
        .order_by(SpendApproval.id)
    ).all()
    return [Vote(*row) for row in rows]


def cast(
    session: Session, *, wallet_user_id: str, spend_request_id: str, voter_id: str, verdict: str
) -> str:
    """Record one approver's vote; answers what the request should do now:
    "approve" (quorum reached), "deny" (it ends), or "wait"."""
    if role_in(session, wallet_user_id, voter_id) not in DECIDERS:
        raise Forbidden("Only the wallet's owner and approvers decide")
    ledger.lock_wallet(session, wallet_user_id)  # votes on one wallet count each other
    record = quorum_of(session, spend_request_id)
    if record is None:
        raise Conflict("This request does not wait for several approvers", code="invalid_state")
    already = session.scalar(
        select(SpendApproval.vote).where(
            SpendApproval.spend_request_id == spend_request_id, SpendApproval.user_id == voter_id
        )
    )
    if already is not None:
        raise Conflict(f"You already chose to {already} this request", code="already_voted")
    session.add(
        SpendApproval(
            spend_request_id=spend_request_id, user_id=voter_id, vote=verdict, created_at=utcnow()
        )
    )
    session.flush()
    tally = votes(session, spend_request_id)
    approvals = sum(1 for v in tally if v.vote == "approve")
    denials = sum(1 for v in tally if v.vote == "deny")
    eligible = len(deciders(session, wallet_user_id))
    if verdict == "deny" and (record.deny_ends or eligible - denials < record.approvers_required):
        return "deny"
    if approvals >= record.approvers_required:
        return "approve"
    return "wait"


def owner_for(session: Session, spend_request_id: str, user_id: str) -> str | None:
    """The wallet owner of a request that `user_id` may see as a member, else None."""
    from linkpay.wallet.store.models import SpendRequest

    owner = session.scalar(select(SpendRequest.user_id).where(SpendRequest.id == spend_request_id))
    if owner is None or owner == user_id:
        return None
    return owner if role_in(session, owner, user_id) is not None else None
