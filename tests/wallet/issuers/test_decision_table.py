"""The decision table, each case through both Stripe and Lithic: the provider's fake
sends a signed real-time authorization to the wallet's webhook, the one decision
function answers, and the answer plus its recorded reason are checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from issuers_helpers import Live, last_decision, spend_status
from sqlalchemy import update


def _approved(live: Live, card: str, amount: int, **kw: object) -> bool:
    approved, response = live.authorize(card, amount, **kw)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    if live.provider == "stripe":
        assert response.headers["Stripe-Version"]
        assert response.json()["approved"] is approved
    else:
        assert response.json()["result"] == ("APPROVED" if approved else response.json()["result"])
    return approved


def _reason(live: Live, card: str) -> str:
    return str(last_decision(live.wallet, card).reason)


def test_exact_match_is_approved(live: Live) -> None:
    _, card = live.approved_card(1999)
    assert _approved(live, card, 1999)
    assert _reason(live, card) == "approved"


def test_over_the_amount_is_declined(live: Live) -> None:
    _, card = live.approved_card(1999)
    assert not _approved(live, card, 2000)
    assert _reason(live, card) == "amount_over_approved"


def test_incremental_authorization_within_the_amount(live: Live) -> None:
    _, card = live.approved_card(1999)
    assert _approved(live, card, 1500)
    assert _approved(live, card, 499, again=True)
    assert _reason(live, card) == "approved"


def test_incremental_authorization_beyond_the_amount(live: Live) -> None:
    _, card = live.approved_card(1999)
    assert _approved(live, card, 1500)
    assert not _approved(live, card, 500, again=True)
    assert _reason(live, card) == "amount_over_approved"


def test_second_authorization_after_capture(live: Live) -> None:
    request_id, card = live.approved_card(1999)
    assert _approved(live, card, 1999)
    live.capture(card, 1999)
    assert spend_status(live.wallet, request_id) == "succeeded"
    assert not _approved(live, card, 1)
    assert _reason(live, card) == "card_used"


def test_wrong_merchant(live: Live) -> None:
    _, card = live.approved_card()
    assert not _approved(live, card, 1999, merchant="TOTALLY OTHER STORE")
    assert _reason(live, card) == "merchant_mismatch"


def test_merchant_spelt_differently_but_the_same(live: Live) -> None:
    _, card = live.approved_card()
    assert _approved(live, card, 999, merchant="SQ *The Charger-Shop, Inc.")
    assert _reason(live, card) == "approved"


def test_currency_mismatch(live: Live) -> None:
    _, card = live.approved_card()
    assert not _approved(live, card, 1999, currency="eur")
    assert _reason(live, card) == "currency_mismatch"


def test_expired(live: Live) -> None:
    from linkpay.wallet.store.models import Credential

    request_id, card = live.approved_card()
    with live.wallet.session() as session:
        session.execute(
            update(Credential)
            .where(Credential.spend_request_id == request_id)
            .values(valid_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert not _approved(live, card, 1999)
    assert _reason(live, card) == "expired"


def test_canceled(live: Live) -> None:
    request_id, card = live.approved_card()
    assert live.agent.post(f"/spend_requests/{request_id}/cancel").status_code == 200
    assert not _approved(live, card, 1999)
    assert _reason(live, card) == "card_canceled"


def test_paused_wallet(live: Live) -> None:
    from linkpay.wallet.spend.service import pause_spending

    _, card = live.approved_card()
    with live.wallet.session() as session:
        pause_spending(session, live.person)
    assert not _approved(live, card, 1999)
    assert _reason(live, card) == "wallet_paused"


def test_unknown_card(live: Live) -> None:
    card = "ic_unknown0000" if live.provider == "stripe" else "00000000-dead-beef-0000-000000000000"
    assert not _approved(live, card, 100)
    assert _reason(live, card) == "unknown_card"


def test_stale_timestamp_is_refused_unanswered(live: Live) -> None:
    _, card = live.approved_card()
    approved, response = live.authorize(card, 1999, **live.stale())
    assert not approved and response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_signature"
    assert last_decision(live.wallet, card) is None


def test_bad_signature_is_refused_unanswered(live: Live) -> None:
    _, card = live.approved_card()
    approved, response = live.authorize(card, 1999, **live.forged())
    assert not approved and response.status_code == 400
    assert last_decision(live.wallet, card) is None
