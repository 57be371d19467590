"""Helpers for the policy tests that run a real wallet: set a person's policy the way
the web app and `link-wallet policy` do (through `policy.edit`), read the ledger, make
agents and charges (imported by the test modules)."""

from __future__ import annotations

import secrets
from typing import Any

from linkpay.wallet.policy import edit
from linkpay.wallet.policy.limits import DEFAULT_MAXIMUMS

CONTEXT = (
    "Buying the paperback the person asked for this morning from the usual bookshop, "
    "delivered to their default address; the price was checked against two others."
)


def body(amount: int = 1500, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "amount": amount,
        "currency": "usd",
        "merchant_name": "Books",
        "merchant_url": "https://books.example/cart",
        "context": f"{CONTEXT} [{secrets.token_hex(4)}]",
    }
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not None}


def set_rules(wallet: Any, person: str, *rules: dict[str, Any]) -> None:
    raw = [{"id": f"r{i}", **rule} for i, rule in enumerate(rules, start=1)]
    with wallet.session() as session:
        edit.set_rules(session, person, raw, actor="test", confirmed_by="test")


def set_budgets(wallet: Any, person: str, *budgets: dict[str, Any]) -> None:
    raw = [{"id": f"b{i}", **budget} for i, budget in enumerate(budgets, start=1)]
    with wallet.session() as session:
        edit.set_budgets(session, person, raw, actor="test", confirmed_by="test")


def set_limits(wallet: Any, person: str, **changes: int) -> None:
    with wallet.session() as session:
        edit.set_limits(
            session, person, changes, maximum=DEFAULT_MAXIMUMS, actor="test", confirmed_by="test"
        )


def ledger_rows(wallet: Any, spend_request_id: str) -> list[tuple[str, int]]:
    from sqlalchemy import select

    from linkpay.wallet.store.policy_models import LedgerEntry

    with wallet.session() as session:
        return [
            (row.kind, row.amount)
            for row in session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.spend_request_id == spend_request_id)
                .order_by(LedgerEntry.id)
            )
        ]


def wallet_total(wallet: Any, person: str) -> int:
    from linkpay.wallet.policy.ledger import wallet_total as total

    with wallet.session() as session:
        return total(session, person)
