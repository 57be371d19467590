"""Approval binding: the person approves a hash of the exact purchase; a change after
the page was shown refuses the approval, a change after approval is refused, and a
credential is only revealed while the hash still matches."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from spend_helpers import approved, create, pending
from sqlalchemy import update

from linkpay.wallet.binding import material_hash
from linkpay.wallet.errors import WalletError, http_status
from linkpay.wallet.spend import service
from linkpay.wallet.store.models import Credential, SpendRequest


def _row(wallet: Any, spend_request_id: str) -> SpendRequest:
    with wallet.session() as session:
        row = session.get(SpendRequest, spend_request_id)
        assert row is not None
        return row


def test_material_hash_covers_exactly_the_material_fields(wallet: Any, agent: Any) -> None:
    row = _row(wallet, create(agent)["id"])
    base = material_hash(row)
    assert len(base) == 64 and base == material_hash(row)
    changes = {
        "amount": row.amount + 1,
        "currency": "eur",
        "merchant_name": "Other Shop",
        "merchant_url": "https://other.example",
        "line_items": [{"name": "something else"}],
        "totals": [],
        "credential_type": "shared_payment_token",
        "network_id": "profile_other",
        "payment_method_id": "csmrpd_other",
    }
    for column, value in changes.items():
        original = getattr(row, column)
        setattr(row, column, value)
        assert material_hash(row) != base, column
        setattr(row, column, original)
    # context and metadata are what the agent says, not what gets paid
    row.context = row.context + " (edited)"
    row.request_metadata = {"order": "42"}
    assert material_hash(row) == base
    # key order and null fields in line items do not matter (canonical JSON)
    row.line_items = [dict(reversed(list(item.items()))) | {"sku": None} for item in row.line_items]
    assert material_hash(row) == base


def test_approval_of_what_was_shown(wallet: Any, agent: Any, person: str) -> None:
    request = pending(agent)
    shown = material_hash(_row(wallet, request["id"]))
    with wallet.session() as session:
        row = service.approve_spend_request(
            session,
            user_id=person,
            spend_request_id=request["id"],
            settings=wallet.settings,
            expected_hash=shown,
        )
        assert row.approval_hash == shown
    with wallet.session() as session:
        credential = session.query(Credential).filter_by(spend_request_id=request["id"]).one()
        assert credential.approval_hash == shown
        assert credential.max_amount == request["amount"]


def test_change_after_page_shown_refuses_approval(wallet: Any, agent: Any, person: str) -> None:
    request = pending(agent)
    shown = material_hash(_row(wallet, request["id"]))
    # the agent raises the amount while the person looks at the old figure
    bigger = agent.post(
        f"/spend_requests/{request['id']}",
        json={"amount": 45_000, "totals": [{"type": "total", "amount": 45_000}]},
    )
    assert bigger.status_code == 200
    with wallet.session() as session, pytest.raises(WalletError) as raised:
        service.approve_spend_request(
            session,
            user_id=person,
            spend_request_id=request["id"],
            settings=wallet.settings,
            expected_hash=shown,
        )
    assert http_status(raised.value) == 409
    assert raised.value.code == "spend_request_changed"
    assert agent.get(f"/spend_requests/{request['id']}").json()["status"] == "pending_approval"
    with wallet.session() as session:
        assert session.query(Credential).filter_by(spend_request_id=request["id"]).count() == 0


def test_update_after_approval_refused(wallet: Any, agent: Any, person: str) -> None:
    request = approved(wallet, agent, person)
    answer = agent.post(
        f"/spend_requests/{request['id']}",
        json={"amount": 45_000, "totals": [{"type": "total", "amount": 45_000}]},
    )
    assert answer.status_code == 409
    assert agent.get(f"/spend_requests/{request['id']}").json()["amount"] == request["amount"]


def test_hash_mismatch_reveals_no_credential(wallet: Any, agent: Any, person: str) -> None:
    request = approved(wallet, agent, person)
    path = f"/spend_requests/{request['id']}"
    assert "card" in agent.get(path, params={"include": "card"}).json()
    # the stored purchase no longer matches what was approved (e.g. a tampered row)
    with wallet.session() as session:
        session.execute(
            update(SpendRequest).where(SpendRequest.id == request["id"]).values(amount=49_999)
        )
    answer = agent.get(path, params={"include": "card"}).json()
    assert answer["status"] == "approved"
    assert "card" not in answer


def test_spt_revealed_only_when_approved(wallet: Any, agent: Any, person: str) -> None:
    from spend_helpers import spt_body

    created = agent.post("/spend_requests", json=spt_body(request_approval=True)).json()
    path = f"/spend_requests/{created['id']}"
    assert (
        "shared_payment_token"
        not in agent.get(path, params={"include": "shared_payment_token"}).json()
    )
    wallet.approve(created["id"], person)
    token = agent.get(path, params={"include": "shared_payment_token"}).json()
    assert token["shared_payment_token"]["id"].startswith("spt_")
    assert "card" not in agent.get(path, params={"include": "card"}).json()


def test_concurrent_approvals_have_one_winner(wallet: Any, agent: Any, person: str) -> None:
    request = pending(agent)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def approve() -> None:
        barrier.wait()
        try:
            with wallet.session() as session:
                service.approve_spend_request(
                    session,
                    user_id=person,
                    spend_request_id=request["id"],
                    settings=wallet.settings,
                )
            outcomes.append("approved")
        except WalletError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=approve) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("approved") == 1, outcomes
    assert set(outcomes) - {"approved"} <= {"invalid_state", "spend_request_changed"}
    with wallet.session() as session:
        assert session.query(Credential).filter_by(spend_request_id=request["id"]).count() == 1


def test_cancel_races_approval_one_outcome(wallet: Any, agent: Any, person: str) -> None:
    request = pending(agent)
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def approve() -> None:
        barrier.wait()
        try:
            with wallet.session() as session:
                service.approve_spend_request(
                    session,
                    user_id=person,
                    spend_request_id=request["id"],
                    settings=wallet.settings,
                )
            results["approve"] = "ok"
        except WalletError as exc:
            results["approve"] = exc.code

    def cancel() -> None:
        barrier.wait()
        results["cancel"] = str(agent.post(f"/spend_requests/{request['id']}/cancel").status_code)

    threads = [threading.Thread(target=approve), threading.Thread(target=cancel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = agent.get(f"/spend_requests/{request['id']}", params={"include": "card"}).json()
    # whichever lands first, cancel is legal from pending and approved alike: it wins,
    # and a canceled request never shows a card (an issued one was voided)
    assert results["cancel"] == "200"
    assert final["status"] == "canceled"
    assert "card" not in final
    assert results["approve"] in ("ok", "invalid_state")
