"""Exactly once under concurrency: 50 simultaneous charges of one virtual card, and 50
simultaneous redemptions of one shared payment token, over real HTTP against the
running wallet, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from network_helpers import Flow, Merchant, charge_body
from sqlalchemy import func, select

from linkpay.wallet.decide import AuthorizationAsk, decide
from linkpay.wallet.store.models import Charge, Credential, SpendRequest, Transaction

PARALLEL = 50


def race(flow: Flow, send: Callable[[Any], Any]) -> list[Any]:
    """Fire `send(client)` from PARALLEL threads released at the same instant."""
    clients = [flow.wallet.http() for _ in range(PARALLEL)]
    gate = threading.Barrier(PARALLEL)

    def one(client: Any) -> Any:
        gate.wait(timeout=30)
        return send(client)

    try:
        with ThreadPoolExecutor(PARALLEL) as pool:
            return list(pool.map(one, clients))
    finally:
        for client in clients:
            client.close()


def _settled_once(flow: Flow, spend_request_id: str, winner_id: str) -> None:
    request = flow.get(spend_request_id)
    assert request["status"] == "succeeded"
    assert request["payment_status_details"]["outcome"] == "success"
    with flow.wallet.session() as s:
        successes = s.scalar(
            select(func.count(Charge.id)).where(
                Charge.spend_request_id == spend_request_id, Charge.status == "succeeded"
            )
        )
        transactions = s.scalars(
            select(Transaction).where(Transaction.spend_request_id == spend_request_id)
        ).all()
        credential = s.scalars(
            select(Credential).where(Credential.spend_request_id == spend_request_id)
        ).one()
    assert successes == 1 and [t.source_id for t in transactions] == [winner_id]
    assert credential.status == "used"


def test_fifty_parallel_card_charges_one_success(flow: Flow, shop: Merchant) -> None:
    spend_request_id, card = flow.approved_card()
    body = charge_body(card)
    answers = race(
        flow,
        lambda client: client.post(
            "/v1/test_network/card_charges", json=body, headers=shop.headers()
        ),
    )
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {200: 1, 402: PARALLEL - 1}, statuses
    codes = {a.json()["error"]["decline_code"] for a in answers if a.status_code == 402}
    # Every loser is declined as a second use, also one that read the card before the
    # winner committed (on PostgreSQL it then sees the winner's authorization in the
    # amount sum: still a second use, not an amount over the approved one).
    assert codes == {"card_already_used"}, codes
    winner = next(a.json() for a in answers if a.status_code == 200)
    _settled_once(flow, spend_request_id, winner["id"])


def test_a_decision_that_read_the_card_before_a_winner_committed_says_card_used(
    flow: Flow, shop: Merchant
) -> None:
    """The race above, one step at a time: a loser read the card (`active`) and the
    request (`approved`), then the winner committed; the loser's sum of authorizations
    now counts the winner's amount. Its reason is still the second use."""
    spend_request_id, card = flow.approved_card()
    session = flow.wallet.sessionmaker()  # expire_on_commit=False: loaded copies go stale
    try:
        credential = session.scalars(
            select(Credential).where(Credential.spend_request_id == spend_request_id)
        ).one()
        request = session.get(SpendRequest, spend_request_id)
        assert credential.status == "active" and request is not None
        session.commit()
        with flow.wallet.http() as client:
            won = client.post(
                "/v1/test_network/card_charges", json=charge_body(card), headers=shop.headers()
            )
        assert won.status_code == 200, won.text
        assert credential.status == "active"  # the loser's copy, as it read it
        ask = AuthorizationAsk(
            issuer=credential.issuer,
            card_ref=credential.issuer_ref or credential.id,
            amount=2500,
            currency="usd",
            merchant_name=request.merchant_name,
            merchant_url=request.merchant_url,
        )
        decision = decide(session, ask)
        assert (decision.approved, decision.reason) == (False, "card_used")
    finally:
        session.rollback()
        session.close()


def test_fifty_parallel_payment_intents_one_success(flow: Flow, shop: Merchant) -> None:
    spend_request_id, token = flow.approved_token(shop.network_id)
    form = {
        "amount": "2500",
        "currency": "usd",
        "shared_payment_granted_token": token,
        "confirm": "true",
    }
    answers = race(
        flow, lambda client: client.post("/v1/payment_intents", data=form, headers=shop.headers())
    )
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {200: 1, 402: PARALLEL - 1}, statuses
    codes = {a.json()["error"]["decline_code"] for a in answers if a.status_code == 402}
    assert codes == {"token_already_used"}
    winner = next(a.json() for a in answers if a.status_code == 200)
    _settled_once(flow, spend_request_id, winner["id"])


def test_same_idempotency_key_in_parallel_gives_one_intent(flow: Flow, shop: Merchant) -> None:
    spend_request_id, token = flow.approved_token(shop.network_id)
    form = {
        "amount": "2500",
        "currency": "usd",
        "shared_payment_granted_token": token,
        "confirm": "true",
    }
    headers = shop.headers(**{"Idempotency-Key": f"mpp_same_{token}"})
    answers = race(
        flow, lambda client: client.post("/v1/payment_intents", data=form, headers=headers)
    )
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.json()["id"] for answer in answers}) == 1
    replayed = [a for a in answers if a.headers.get("Idempotent-Replayed") == "true"]
    assert len(replayed) == PARALLEL - 1
    _settled_once(flow, spend_request_id, answers[0].json()["id"])


def test_charges_racing_a_cancel_stay_consistent(flow: Flow, shop: Merchant) -> None:
    """A cancel and charges at the same instant: one side wins, never both, no deadlock."""
    spend_request_id, card = flow.approved_card()
    body = charge_body(card)
    cancel_slot = PARALLEL // 2
    counter = iter(range(PARALLEL))
    lock = threading.Lock()

    def send(client: Any) -> Any:
        with lock:
            index = next(counter)
        if index == cancel_slot:
            return client.post(
                f"/spend_requests/{spend_request_id}/cancel",
                headers={"Authorization": f"Bearer {flow.token.access_token}"},
            )
        return client.post("/v1/test_network/card_charges", json=body, headers=shop.headers())

    answers = race(flow, send)
    assert all(answer.status_code in (200, 402, 409) for answer in answers), [
        (a.status_code, a.text) for a in answers if a.status_code not in (200, 402, 409)
    ]
    charged = [a for a in answers if a.status_code == 200 and a.json().get("object") == "charge"]
    status = flow.get(spend_request_id)["status"]
    with flow.wallet.session() as s:
        credential = s.scalars(
            select(Credential).where(Credential.spend_request_id == spend_request_id)
        ).one()
        credential_status = credential.status
    if status == "succeeded":
        assert len(charged) == 1 and credential_status == "used"
    else:
        assert status == "canceled" and not charged and credential_status == "voided"
