"""The policy as the spend service uses it: load the person's policy, gather the
facts and figures a decision needs (in SQL, inside the caller's transaction), decide,
and reserve. Pure judgement lives in `rules`, `limits` and `budgets`; ledger rows in
`ledger`. Refusals become the API's 4xx here (`refusal_error`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import Session

from linkpay.wallet.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    RateLimited,
    WalletError,
)
from linkpay.wallet.policy import create_lock, ledger
from linkpay.wallet.policy.budgets import Budget, budget_refusal
from linkpay.wallet.policy.limits import (
    LINK_DEFAULTS,
    Limits,
    Usage,
    check_create,
    check_reserve,
    count_headroom,
)
from linkpay.wallet.policy.periods import period_bounds, zone
from linkpay.wallet.policy.refusal import Refusal
from linkpay.wallet.policy.rules import CountCap, Decision, Facts, Rule, evaluate, merchant_key
from linkpay.wallet.policy.usage import budget_usage, counts, usage
from linkpay.wallet.store.models import SpendRequest, User
from linkpay.wallet.store.policy_models import SpendDecision, WalletPolicy


@dataclass(frozen=True)
class Policy:
    limits: Limits
    timezone: str
    tz: ZoneInfo
    rules: tuple[Rule, ...]
    budgets: tuple[Budget, ...]
    version: int


# Validated rules and budgets per (wallet, version, updated_at), in this process: a
# create reads three small columns and reuses the compiled policy; every change bumps
# the version (`edit`), and the timestamp keeps apart two transactions that bumped to
# the same version (one of them rolled back).
_COMPILED: dict[tuple[str, int, Any], tuple[tuple[Rule, ...], tuple[Budget, ...]]] = {}
_COMPILED_MAX = 4096
_COMPILED_LOCK = threading.Lock()
_HEAD = select(
    WalletPolicy.version, WalletPolicy.updated_at, WalletPolicy.limits, WalletPolicy.timezone
).where(WalletPolicy.user_id == bindparam("user"))
_BODY = select(WalletPolicy.rules, WalletPolicy.budgets).where(
    WalletPolicy.user_id == bindparam("user")
)


def _compiled(
    session: Session, user_id: str, version: int, updated_at: Any
) -> tuple[tuple[Rule, ...], tuple[Budget, ...]]:
    key = (user_id, version, updated_at)
    found = _COMPILED.get(key)
    if found is not None:
        return found
    raw_rules, raw_budgets = session.execute(_BODY, {"user": user_id}).one()
    compiled = (
        tuple(Rule.model_validate(item) for item in raw_rules or []),
        tuple(Budget.model_validate(item) for item in raw_budgets or []),
    )
    with _COMPILED_LOCK:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        _COMPILED[key] = compiled
    return compiled


def load_policy(session: Session, user: User) -> Policy:
    session.flush()  # what the ORM would do; then its per-statement work is not needed
    head = session.connection().execute(_HEAD, {"user": user.id}).first()
    overrides = dict(head.limits or {}) if head is not None else {}
    overrides["per_request"] = user.max_amount_per_request or LINK_DEFAULTS.per_request
    limits = Limits(**{**LINK_DEFAULTS.as_dict(), **overrides})
    if head is None:
        return Policy(limits, "UTC", zone("UTC"), (), (), 0)
    rules, budgets = _compiled(session, user.id, head.version, head.updated_at)
    return Policy(limits, head.timezone, zone(head.timezone), rules, budgets, head.version)


def facts_of(
    session: Session,
    *,
    user_id: str,
    agent: str | None,
    amount: int,
    currency: str,
    credential_type: str,
    merchant_url: str | None,
    network_id: str | None,
    line_items: int,
    at: datetime,
    policy: Policy,
) -> Facts:
    merchant = merchant_key(merchant_url, network_id)
    known = False
    if merchant and any(rule.when.known_merchant is not None for rule in policy.rules):
        known = bool(
            session.scalar(
                select(
                    exists().where(
                        SpendDecision.user_id == user_id,
                        SpendDecision.merchant == merchant,
                        SpendRequest.id == SpendDecision.spend_request_id,
                        SpendRequest.status == "succeeded",
                    )
                )
            )
        )
    return Facts(amount, currency.lower(), credential_type, merchant, agent, line_items, at, known)


@lru_cache(maxsize=8)
def _rule_count_statement(per: str, key_is_none: bool) -> Any:
    """Built once per shape (statement caching instead of building it per create)."""
    conditions = [
        SpendDecision.user_id == bindparam("user"),
        SpendDecision.rule == bindparam("rule"),
        SpendDecision.created_at >= bindparam("start"),
        SpendDecision.created_at < bindparam("end"),
    ]
    column = {"agent": SpendDecision.agent, "merchant": SpendDecision.merchant}.get(per)
    if column is not None:
        conditions.append(column.is_(None) if key_is_none else column == bindparam("key"))
    return select(func.count()).where(*conditions)


def _rule_counter(session: Session, user_id: str, tz: ZoneInfo) -> Any:
    def count(rule: Rule, cap: CountCap, facts: Facts) -> int:
        start, end = period_bounds(cap.period, facts.at, tz)
        key = facts.agent if cap.per == "agent" else facts.merchant
        statement = _rule_count_statement(cap.per, key is None)
        values = {"user": user_id, "rule": rule.id, "start": start, "end": end, "key": key}
        return int(session.scalar(statement, values) or 0)

    return count


@dataclass
class Assessment:
    decision: Decision
    refusal: Refusal | None
    policy: Policy
    facts: Facts
    usage: Usage


def _money_refusal(
    session: Session,
    user_id: str,
    policy: Policy,
    facts: Facts,
    usage_now: Usage,
    now: datetime,
    *,
    with_counts: bool,
) -> Refusal | None:
    limits = policy.limits
    if not with_counts:  # needs approval: the approved-unused count is checked then
        limits = Limits(**{**limits.as_dict(), "max_approved_unused": 1 << 30})
    refusal = check_reserve(limits, usage_now, facts.amount, now)
    if refusal is not None:
        return refusal
    used = budget_usage(session, user_id, policy.budgets, facts.currency, now, policy.tz, facts)
    for budget in policy.budgets:
        if budget.id in used:
            refusal = budget_refusal(budget, used[budget.id], facts.amount, now, policy.tz)
            if refusal is not None:
                return refusal
    return None


def assess(
    session: Session,
    user: User,
    facts: Facts,
    now: datetime,
    *,
    lock: bool = True,
    policy: Policy | None = None,
) -> Assessment:
    """What a new request with these facts gets: limits first, then the first
    matching rule; an auto-approval (and any request's money) must fit the limits
    and budgets as they stand. `lock=False` only for the dry run, which writes nothing;
    `policy` when the caller already loaded it (for the facts)."""
    policy = policy or load_policy(session, user)
    counted_here = lock and not (policy.rules or policy.budgets)
    side_by_side = False
    if counted_here:
        side_by_side = create_lock.lock(session, user.id, facts.agent)
    elif lock:
        # Rules may approve (and so reserve) and count: read and decide under the
        # wallet lock, held to commit, so parallel creates can't both take the last
        # place or dollar.
        ledger.lock_wallet(session, user.id)
    usage_now = usage(session, user.id, facts.agent, facts.currency, now)
    if counted_here and not create_lock.serialized_by_database(session):

        def room(counts: tuple[int, int, int, int]) -> int:
            active, _approved, creates_hour, creates_60_days = counts
            return count_headroom(policy.limits, active, creates_hour, creates_60_days)

        create_lock.check(
            session,
            user.id,
            facts.agent,
            room(usage_now.counts),
            side_by_side=side_by_side,
            recount=lambda: room(counts(session, user.id, facts.agent, now)),
        )
    decision = evaluate(
        policy.rules, facts, tz=policy.tz, count=_rule_counter(session, user.id, policy.tz)
    )
    refusal = check_create(policy.limits, usage_now, facts.amount, now)
    if refusal is None and decision.action != "deny":
        refusal = _money_refusal(
            session,
            user.id,
            policy,
            facts,
            usage_now,
            now,
            with_counts=decision.action == "auto_approve",
        )
    return Assessment(decision, refusal, policy, facts, usage_now)


_REFUSAL_KINDS: dict[int, type[WalletError]] = {
    400: InvalidRequest,
    403: Forbidden,
    409: Conflict,
    429: RateLimited,
}


def refusal_error(refusal: Refusal) -> WalletError:
    details = dict(refusal.details)
    param = details.pop("param", None)
    kind = _REFUSAL_KINDS.get(refusal.status, Forbidden)
    return kind(
        refusal.message,
        code=refusal.code,
        param=param,
        retry_after=refusal.retry_after or None,
        **details,
    )


def reserve_for_approval(session: Session, row: SpendRequest, now: datetime) -> None:
    """The person (or someone they delegated to) approves `row`: under the wallet
    lock, check the money limits and budgets and hold the amount. Raises the 4xx."""
    ledger.lock_wallet(session, row.user_id)
    user = session.get(User, row.user_id)
    assert user is not None
    policy = load_policy(session, user)
    facts = facts_of(
        session,
        user_id=row.user_id,
        agent=row.token_family_id,
        amount=row.amount,
        currency=row.currency,
        credential_type=row.credential_type,
        merchant_url=row.merchant_url,
        network_id=row.network_id,
        line_items=len(row.line_items or []),
        at=now,
        policy=policy,
    )
    usage_now = usage(session, row.user_id, row.token_family_id, row.currency, now)
    if row.status == "approved":  # a delegated create: inserted approved, counted already
        usage_now = replace(usage_now, approved_unused=usage_now.approved_unused - 1)
    refusal = _money_refusal(session, row.user_id, policy, facts, usage_now, now, with_counts=True)
    if refusal is not None:
        raise refusal_error(refusal)
    hold(session, row, facts, now)


def hold(session: Session, row: SpendRequest, facts: Facts, now: datetime) -> None:
    ledger.reserve(
        session,
        user_id=row.user_id,
        spend_request_id=row.id,
        amount=row.amount,
        currency=row.currency,
        agent=facts.agent,
        merchant=facts.merchant,
        now=now,
    )


def record_decision(
    session: Session,
    row: SpendRequest,
    decision: Decision,
    *,
    by: str | None,
    merchant: str | None,
    now: datetime,
) -> SpendDecision:
    record = SpendDecision(
        spend_request_id=row.id,
        user_id=row.user_id,
        by=by,
        rule=decision.rule,
        reason=decision.reason[:500],
        approvers_required=decision.approvers_required,
        deny_ends=decision.deny_ends,
        agent=row.token_family_id,
        merchant=merchant,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    return record


def decided_by_person(
    session: Session, row: SpendRequest, *, person_id: str, verdict: str, now: datetime
) -> None:
    """The person's approve or deny becomes the request's decision."""
    record = session.get(SpendDecision, row.id)
    reason = f"{verdict.capitalize()} by the person"
    if record is None:
        record = SpendDecision(
            spend_request_id=row.id,
            user_id=row.user_id,
            rule=None,
            agent=row.token_family_id,
            merchant=merchant_key(row.merchant_url, row.network_id),
            created_at=now,
        )
        session.add(record)
    elif record.reason:
        reason += f" ({record.reason})"
    record.by, record.decided_by, record.updated_at = "person", person_id, now
    record.reason = reason[:500]
    session.flush()


def decision_of(session: Session, spend_request_id: str) -> dict[str, Any] | None:
    record = session.get(SpendDecision, spend_request_id)
    if record is None or record.by is None:
        return None
    return {"by": record.by, "rule": record.rule, "reason": record.reason}
