"""Tables of the person's rules (issue: limits, rules, budgets, shared wallets).
Same `Base` as models.py; created by migration 0003_policy.

- `wallet_policies`: one row per wallet with its ordered rules, budgets, adjusted
  limits and time zone, edited as a whole and versioned (a preview compares versions).
- `policy_changes`: who changed what and when, and how a loosening was confirmed.
- `budget_ledger`: the reservation ledger. One row per reserve, consume or release,
  written in the transaction of the state change it belongs to; what a period has
  used is a sum over it, never a counter.
- `spend_decisions`: who decided a spend request (person or policy), under which rule
  and why; also how many approvers the deciding rule asks for.
- `wallet_members` / `spend_approvals`: shared wallets (roles, M-of-N votes).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linkpay.wallet.store.models import Base, UTCDateTime, utcnow

__all__ = [
    "LedgerEntry",
    "PolicyChange",
    "SpendApproval",
    "SpendDecision",
    "WalletMember",
    "WalletPolicy",
]


class WalletPolicy(Base):
    __tablename__ = "wallet_policies"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    limits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # overrides only
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    rules: Mapped[list[Any]] = mapped_column(JSON, default=list)  # ordered
    budgets: Mapped[list[Any]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(200))


class PolicyChange(Base):
    __tablename__ = "policy_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    actor: Mapped[str] = mapped_column(String(200))  # person's email, or "cli"
    what: Mapped[str] = mapped_column(String(40))  # rules | budgets | limits | timezone
    loosening: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_by: Mapped[str | None] = mapped_column(String(40))  # passkey | password | …
    before: Mapped[Any] = mapped_column(JSON)
    after: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerEntry(Base):
    __tablename__ = "budget_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    spend_request_id: Mapped[str] = mapped_column(ForeignKey("spend_requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # reserve | consume | release
    amount: Mapped[int] = mapped_column(Integer)  # positive, minor units
    currency: Mapped[str] = mapped_column(String(3))
    agent: Mapped[str | None] = mapped_column(String(40))  # token family id
    merchant: Mapped[str | None] = mapped_column(String(253))  # rules' merchant key
    # The reservation's time: every row of one request counts in the period it was
    # reserved in, so a release gives back to the period that was charged.
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_budget_ledger_user_reserved", "user_id", "reserved_at"),)


class SpendDecision(Base):
    __tablename__ = "spend_decisions"
    __table_args__ = (Index("ix_spend_decisions_user_rule", "user_id", "rule", "created_at"),)

    spend_request_id: Mapped[str] = mapped_column(ForeignKey("spend_requests.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    by: Mapped[str | None] = mapped_column(String(10))  # person | policy; None: undecided
    rule: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500))
    approvers_required: Mapped[int] = mapped_column(Integer, default=1)
    deny_ends: Mapped[bool] = mapped_column(Boolean, default=True)
    decided_by: Mapped[str | None] = mapped_column(String(40))  # usr_… of the person
    # What per-period rule counts group by: the agent and the rules' merchant key.
    agent: Mapped[str | None] = mapped_column(String(40))
    merchant: Mapped[str | None] = mapped_column(String(253))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WalletMember(Base):
    """Another person on a wallet (the wallet is its owner's user id)."""

    __tablename__ = "wallet_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    wallet_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    member_user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # owner | approver | viewer
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("wallet_user_id", "member_user_id"),)


class SpendApproval(Base):
    """One approver's vote on a spend request that needs several."""

    __tablename__ = "spend_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    spend_request_id: Mapped[str] = mapped_column(ForeignKey("spend_requests.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    vote: Mapped[str] = mapped_column(String(10))  # approve | deny
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("spend_request_id", "user_id"),)
