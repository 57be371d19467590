"""Changing the person's policy. Only people do this (the web app, `link-wallet
policy`), never agent tokens. A change that loosens anything (a higher limit or
budget, a budget or rule removed, a rule that could approve more) needs a fresh
confirmation, named in `confirmed_by`; tightening does not. Every change is recorded
(`policy_changes` and the audit log) with who made it and when.

Which rule changes count as tightening is decided conservatively: removing
`auto_approve` rules and inserting `deny` rules (anywhere: a request it catches was
decided by a later rule or the default, so it can only get stricter). Anything else
is treated as loosening.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.policy import ledger
from linkpay.wallet.policy.budgets import Budget
from linkpay.wallet.policy.limits import LINK_DEFAULTS, Limits, adjusted, loosened
from linkpay.wallet.policy.periods import zone
from linkpay.wallet.policy.rules import parse_rules
from linkpay.wallet.store.models import User, utcnow
from linkpay.wallet.store.policy_models import PolicyChange, WalletPolicy


class ConfirmationRequired(Exception):
    """The change loosens the policy and no fresh confirmation was given."""

    def __init__(self, what: str, reasons: list[str]) -> None:
        super().__init__(f"Loosening {what} needs a fresh confirmation: " + "; ".join(reasons))
        self.what = what
        self.reasons = reasons


@dataclass(frozen=True)
class Change:
    what: str
    loosening: list[str]  # empty when the change only tightens
    version: int


def policy_row(session: Session, user_id: str) -> WalletPolicy:
    """The wallet's policy row, created on first change; locked against a concurrent
    edit (PostgreSQL row lock; SQLite already holds the write lock)."""
    ledger.lock_wallet(session, user_id)
    row = session.get(WalletPolicy, user_id, populate_existing=True)
    if row is None:
        row = WalletPolicy(
            user_id=user_id,
            limits={},
            timezone="UTC",
            rules=[],
            budgets=[],
            version=0,
            updated_at=utcnow(),
        )
        session.add(row)
        session.flush()
    return row


def rule_loosenings(old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]) -> list[str]:
    """Why `new` might approve or ask about something `old` refused or asked about."""
    remaining = [dict(rule) for rule in old]
    reasons: list[str] = []
    for rule in new:
        if remaining and remaining[0] == rule:
            remaining.pop(0)
            continue
        while remaining and remaining[0].get("action") == "auto_approve" and remaining[0] != rule:
            remaining.pop(0)  # a removed auto-approve rule only tightens
        if remaining and remaining[0] == rule:
            remaining.pop(0)
        elif rule.get("action") != "deny":
            reasons.append(f"rule {rule.get('id')} ({rule.get('action')}) is new or changed")
    for rule in remaining:
        if rule.get("action") != "auto_approve":
            reasons.append(f"rule {rule.get('id')} ({rule.get('action')}) is removed")
    return reasons


def budget_loosenings(old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]) -> list[str]:
    after = {item["id"]: item for item in new}
    reasons = []
    for item in old:
        now = after.get(item["id"])
        if now is None:
            reasons.append(f"budget {item['id']} is removed")
        elif {k: v for k, v in now.items() if k != "amount"} != {
            k: v for k, v in item.items() if k != "amount"
        }:
            reasons.append(f"budget {item['id']} changes what it covers")
        elif now["amount"] > item["amount"]:
            reasons.append(f"budget {item['id']} is raised")
    return reasons


def _record(
    session: Session,
    row: WalletPolicy,
    *,
    what: str,
    before: Any,
    after: Any,
    actor: str,
    reasons: list[str],
    confirmed_by: str | None,
) -> Change:
    if reasons and not confirmed_by:
        raise ConfirmationRequired(what, reasons)
    now = utcnow()
    row.version += 1
    row.updated_at = now
    row.updated_by = actor[:200]
    session.add(
        PolicyChange(
            user_id=row.user_id,
            actor=actor[:200],
            what=what,
            loosening=bool(reasons),
            confirmed_by=confirmed_by if reasons else None,
            before=before,
            after=after,
            created_at=now,
        )
    )
    audit.record_event(
        session,
        audit.events.LIMIT_CHANGED if what == "limits" else audit.events.RULE_CHANGED,
        actor=actor,
        subject=row.user_id,
        user_id=row.user_id,
        data={
            "what": what,
            "loosening": reasons,
            "confirmed_by": confirmed_by,
            "version": row.version,
            "after": after,
        },
    )
    session.flush()
    return Change(what, reasons, row.version)


def set_rules(
    session: Session,
    user_id: str,
    raw: Sequence[Any],
    *,
    actor: str,
    confirmed_by: str | None = None,
) -> Change:
    """Replace the ordered rule list (validated as a whole)."""
    rules = parse_rules(list(raw))
    after = [
        rule.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        | {"id": rule.id, "action": rule.action}
        for rule in rules
    ]
    row = policy_row(session, user_id)
    before = list(row.rules or [])
    reasons = rule_loosenings(before, after)
    change = _record(
        session,
        row,
        what="rules",
        before=before,
        after=after,
        actor=actor,
        reasons=reasons,
        confirmed_by=confirmed_by,
    )
    row.rules = after
    return change


def set_budgets(
    session: Session,
    user_id: str,
    raw: Sequence[Any],
    *,
    actor: str,
    confirmed_by: str | None = None,
) -> Change:
    budgets = [Budget.model_validate(item) for item in raw]
    if len({b.id for b in budgets}) != len(budgets):
        raise ValueError("budget ids must be unique")
    after = [budget.model_dump(mode="json") for budget in budgets]
    row = policy_row(session, user_id)
    before = list(row.budgets or [])
    reasons = budget_loosenings(before, after)
    change = _record(
        session,
        row,
        what="budgets",
        before=before,
        after=after,
        actor=actor,
        reasons=reasons,
        confirmed_by=confirmed_by,
    )
    row.budgets = after
    return change


def set_limits(
    session: Session,
    user_id: str,
    changes: dict[str, int],
    *,
    maximum: Limits,
    actor: str,
    confirmed_by: str | None = None,
) -> Change:
    """Adjust limits within the operator's `maximum`; per_request lives on the user.
    The person's row is locked before the wallet lock, the order creates take them in
    (a share lock on the person, then the wallet lock), so the two never deadlock."""
    user = session.scalars(select(User).where(User.id == user_id).with_for_update()).one()
    row = policy_row(session, user_id)
    current = Limits(
        **{
            **LINK_DEFAULTS.as_dict(),
            **(row.limits or {}),
            "per_request": user.max_amount_per_request or LINK_DEFAULTS.per_request,
        }
    )
    new = adjusted(current, changes, maximum)
    reasons = [f"{name} is raised" for name in loosened(current, new)]
    change = _record(
        session,
        row,
        what="limits",
        before=current.as_dict(),
        after=new.as_dict(),
        actor=actor,
        reasons=reasons,
        confirmed_by=confirmed_by,
    )
    stored = {k: v for k, v in new.as_dict().items() if k != "per_request"}
    row.limits = {k: v for k, v in stored.items() if v != getattr(LINK_DEFAULTS, k)}
    session.execute(
        update(User).where(User.id == user_id).values(max_amount_per_request=new.per_request)
    )
    return change


def set_timezone(session: Session, user_id: str, name: str, *, actor: str) -> Change:
    zone(name)  # ValueError when unknown
    row = policy_row(session, user_id)
    # Moving the clock can reopen a day's budget early: treat it as loosening-free
    # (it shifts periods, it does not raise amounts) but record it.
    change = _record(
        session,
        row,
        what="timezone",
        before=row.timezone,
        after=name,
        actor=actor,
        reasons=[],
        confirmed_by=None,
    )
    row.timezone = name
    return change


def history(session: Session, user_id: str, limit: int = 50) -> list[PolicyChange]:
    return list(
        session.scalars(
            select(PolicyChange)
            .where(PolicyChange.user_id == user_id)
            .order_by(PolicyChange.id.desc())
            .limit(limit)
        )
    )
