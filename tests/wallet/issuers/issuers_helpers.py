"""Helpers for the live-issuer tests: one `Live` object drives either provider's fake
(Stripe or Lithic) the same way, so every case runs through both."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from fakes.lithic_api import FakeLithic, new_webhook_secret
from fakes.stripe_api import FakeStripe

STRIPE_KEY = "sk_test_" + "51FakeKeyForTheInRepoStripeFake0001"
STRIPE_WEBHOOK_SECRET = "whsec_" + "fakestripesecretfortests0001"
LITHIC_KEY = "11111111-2222-3333-4444-555555555555"
MERCHANT = {"merchant_name": "Charger Shop", "merchant_url": "https://chargers.example"}
ADDRESS = {
    "name": "Ada Lovelace",
    "line_1": "12 Analytical Row",
    "locality": "London",
    "postal_code": "94103",
    "country_code": "US",
}


def make_fakes() -> tuple[FakeStripe, FakeLithic]:
    return FakeStripe(STRIPE_KEY, STRIPE_WEBHOOK_SECRET), FakeLithic(
        LITHIC_KEY, new_webhook_secret()
    )


def connect(wallet: Any, provider: str, fake: Any) -> None:
    from linkpay.wallet.issuing.connections import connect as connect_issuer

    with wallet.session() as session:
        if provider == "stripe":
            connect_issuer(
                session,
                wallet.settings,
                provider="stripe",
                api_key=STRIPE_KEY,
                webhook_secret=STRIPE_WEBHOOK_SECRET,
            )
        else:
            connect_issuer(
                session,
                wallet.settings,
                provider="lithic",
                api_key=LITHIC_KEY,
                webhook_secret=fake.webhook_secret,
                environment="sandbox",
            )
    fake.webhook_url = f"{wallet.base_url}/webhooks/{provider}"


def add_address(wallet: Any, user_id: str) -> None:
    from linkpay.wallet.ids import new_id
    from linkpay.wallet.store.models import ShippingAddress

    with wallet.session() as session:
        session.add(
            ShippingAddress(
                id=new_id("shad"), user_id=user_id, is_default=True, address=dict(ADDRESS)
            )
        )


@dataclass
class Live:
    """A wallet connected to one provider's fake, plus a person and their agent."""

    wallet: Any
    provider: str
    fake: Any
    person: str
    agent: Any
    cards: dict[str, str] = field(default_factory=dict)  # spend request id → card ref

    def approved_card(self, amount: int = 1999, **overrides: Any) -> tuple[str, str]:
        """A card request the person approved; returns (spend request id, card ref)."""
        body = card_body(amount=amount, **overrides)
        response = self.agent.post("/spend_requests", json=body)
        assert response.status_code == 200, response.text
        request_id = response.json()["id"]
        self.wallet.approve(request_id, self.person)
        return request_id, self.card_ref(request_id)

    def card_ref(self, spend_request_id: str) -> str:
        from linkpay.wallet.issuing.service import credential_for

        with self.wallet.session() as session:
            credential = credential_for(session, spend_request_id)
            assert credential is not None and credential.issuer == self.provider
            return str(credential.issuer_ref)

    def authorize(
        self,
        card_ref: str,
        amount: int,
        *,
        merchant: str = "CHARGER SHOP",
        url: str | None = None,
        currency: str = "usd",
        again: bool = False,
        **send: Any,
    ) -> tuple[bool, Any]:
        """One authorization at the provider (`again`: an incremental one on the last
        Stripe authorization; Lithic has no increments, so it sends a new request)."""
        if self.provider == "stripe":
            previous = self.fake.last_authorization["id"] if again else None
            return self.fake.authorize(
                card_ref,
                amount,
                currency=currency,
                merchant_name=merchant,
                merchant_url=url,
                authorization_id=previous,
                **send,
            )
        return self.fake.authorize(
            card_ref, amount, currency=currency.upper(), descriptor=merchant, **send
        )

    def capture(self, card_ref: str, amount: int) -> None:
        if self.provider == "stripe":
            self.fake.capture(self.fake.last_authorization["id"], amount)
        else:
            assert self.fake.settle(card_ref, amount).status_code == 200

    def stale(self) -> dict[str, Any]:
        return {"signed_at": int(time.time()) - 600}

    def forged(self) -> dict[str, Any]:
        if self.provider == "stripe":
            return {"secret": "whsec_" + secrets.token_hex(16)}
        return {"secret": new_webhook_secret()}


def card_body(**overrides: Any) -> dict[str, Any]:
    amount = overrides.pop("amount", 1999)
    body: dict[str, Any] = {
        "amount": amount,
        "currency": "usd",
        **MERCHANT,
        "context": "Buying a 65 W USB-C charger the person asked for this morning, to "
        f"replace the broken one; cheapest reputable shop. [{secrets.token_hex(4)}]",
        "line_items": [{"name": "65 W USB-C charger", "quantity": 1, "unit_amount": amount}],
        "totals": [{"type": "total", "amount": amount}],
        "request_approval": True,
    }
    body.update(overrides)
    return body


def last_decision(wallet: Any, card_ref: str) -> Any:
    from sqlalchemy import select

    from linkpay.wallet.store.issuer_models import AuthorizationDecision

    with wallet.session() as session:
        return session.scalars(
            select(AuthorizationDecision)
            .where(AuthorizationDecision.card_ref == card_ref)
            .order_by(AuthorizationDecision.created_at.desc())
        ).first()


def spend_status(wallet: Any, spend_request_id: str) -> str:
    from linkpay.wallet.store.models import SpendRequest

    with wallet.session() as session:
        row = session.get(SpendRequest, spend_request_id)
        assert row is not None
        return row.status


def agent_token(wallet: Any, user_id: str) -> str:
    """A real agent access token from the wallet's token service (device login has its
    own tests; here it is only setup)."""
    from linkpay.wallet.auth.tokens import DEFAULT_AGENT_SCOPE, issue_tokens

    with wallet.session() as session:
        issued = issue_tokens(
            session,
            user_id=user_id,
            client_id="link-cli",
            scope=DEFAULT_AGENT_SCOPE,
            connection_label="pytest (issuers)",
            authorization_details=None,
            access_ttl=3600,
            refresh_ttl=3600,
        )
    return str(issued.access_token)


def issuer_card(live: Live, card_ref: str) -> dict[str, Any]:
    """The card as the provider's fake holds it (secrets included)."""
    if live.provider == "stripe":
        card = dict(live.fake.objects[card_ref])
        card["number"], card["cvc"] = live.fake.secrets[card_ref]
        return card
    card = dict(live.fake.cards[card_ref])
    card["number"], card["cvc"] = card["pan"], card["cvv"]
    return card


def is_closed(live: Live, card_ref: str) -> bool:
    card = issuer_card(live, card_ref)
    return card.get("status") == "canceled" or card.get("state") == "CLOSED"


def database_text(wallet: Any) -> str:
    """Every row of every table, as text: what a database dump would hold."""
    from sqlalchemy import text

    from linkpay.wallet.store.models import Base

    chunks: list[str] = []
    with wallet.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(text(f'SELECT * FROM "{table.name}"')):
                chunks.append(" ".join(str(value) for value in row))
    return "\n".join(chunks)


def csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def signed_in(wallet: Any, user_id: str) -> Any:
    """An httpx2 client with the person's web session (signed in with a one-time link)."""
    from linkpay.wallet.web.signin import create_signin_link

    with wallet.session() as session:
        link = create_signin_link(session, user_id, wallet.settings)
    client = wallet.http(follow_redirects=False)
    page = client.get(link)
    answer = client.post(
        link,
        data={"csrf_token": csrf_from(page.text), "next": "/"},
        headers={"Origin": wallet.base_url},
    )
    assert answer.status_code == 303, answer.text
    return client
