"""`link-wallet receipt`: who asked (the agent's name and words), who approved (with
the approval hash), what was charged by whom, and the audit entries behind it."""

from __future__ import annotations

from typing import Any

from person_cli_helpers import CONTEXT, Runner, fails, ok, paid_purchase
from sqlalchemy import select

from linkpay.wallet.store.models import SpendRequest


def test_receipt(run: Runner, someone: tuple[str, str], wallet: Any) -> None:
    user_id, address = someone
    spend_request_id = paid_purchase(wallet, user_id)
    with wallet.session() as db:
        approval_hash = db.scalars(
            select(SpendRequest.approval_hash).where(SpendRequest.id == spend_request_id)
        ).one()
    receipt = ok(run, "receipt", spend_request_id, "--email", address)
    assert receipt["status"] == "succeeded" and receipt["amount"] == 2599
    assert receipt["asked"]["by"] == "Claude Code on vm"
    assert receipt["asked"]["context"] == CONTEXT
    assert receipt["asked"]["agent"]["purchases_asked"] == 1
    decision = receipt["decision"]
    assert decision["outcome"] == "approved" and decision["approval_hash"] == approval_hash
    assert decision["by"] == f"Grace Hopper ({address})"
    [charge] = receipt["charges"]
    assert charge["status"] == "succeeded" and charge["by"] == "Acme Books"
    assert charge["amount"] == 2599
    kinds = [step["type"] for step in receipt["timeline"]]
    assert kinds[:3] == [
        "spend_request.created",
        "spend_request.approval_requested",
        "spend_request.approved",
    ]
    assert "charge.succeeded" in kinds and all(len(s["hash"]) == 64 for s in receipt["timeline"])
    assert "4242424242424242" not in str(receipt)

    fails(run, "receipt", "lsrq_nope", "--email", address, code="not_found")
    stranger = wallet.create_user(f"x-{user_id[-6:].lower()}@example.com", "X")
    fails(
        run,
        "receipt",
        spend_request_id,
        "--email",
        f"x-{user_id[-6:].lower()}@example.com",
        code="not_found",
    )
    assert stranger
    fails(run, "receipt", code="INVALID_INPUT")
