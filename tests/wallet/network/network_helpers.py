"""Helpers for the test network tests: real wallet over HTTP, real approval flow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONTEXT = (
    "Buying one box of printer paper for the home office, as the person asked this "
    "morning; the merchant is the usual shop and the price was checked."
)
SHOP_URL = "https://shop.example"


@dataclass
class Merchant:
    id: str
    api_key: str
    network_id: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", **extra}


@dataclass
class Flow:
    """One person, their agent, and the wallet: create → approve → read credentials."""

    wallet: Any
    person: str
    token: Any

    def http(self, **kwargs: Any) -> Any:
        return self.wallet.http(self.token.access_token, **kwargs)

    def create(self, **body: Any) -> str:
        payload = {
            "amount": 2500,
            "currency": "usd",
            "context": CONTEXT,
            "request_approval": True,
            **body,
        }
        if payload.get("credential_type", "card") == "card":
            payload.setdefault("merchant_name", "Example Shop")
            payload.setdefault("merchant_url", f"{SHOP_URL}/checkout")
        with self.http() as client:
            answer = client.post("/spend_requests", json=payload)
        assert answer.status_code in (200, 201), answer.text
        return str(answer.json()["id"])

    def get(self, spend_request_id: str, include: str | None = None) -> dict[str, Any]:
        params = {"include": include} if include else None
        with self.http() as client:
            answer = client.get(f"/spend_requests/{spend_request_id}", params=params)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def approved_card(self, **body: Any) -> tuple[str, dict[str, Any]]:
        spend_request_id = self.create(**body)
        self.wallet.approve(spend_request_id, self.person)
        card = self.get(spend_request_id, include="card")["card"]
        assert card and card["number"], "approved request must reveal its card"
        return spend_request_id, card

    def approved_token(self, network_id: str, **body: Any) -> tuple[str, str]:
        spend_request_id = self.create(
            credential_type="shared_payment_token", network_id=network_id, **body
        )
        self.wallet.approve(spend_request_id, self.person)
        token = self.get(spend_request_id, include="shared_payment_token")
        assert token["shared_payment_token"], "approved request must show its token"
        return spend_request_id, str(token["shared_payment_token"]["id"])

    def transactions(self) -> list[dict[str, Any]]:
        with self.http() as client:
            answer = client.get("/transactions", params={"limit": 100})
        assert answer.status_code == 200, answer.text
        return list(answer.json()["data"])


def charge_body(card: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = {
        "number": card["number"],
        "exp_month": card["exp_month"],
        "exp_year": card["exp_year"],
        "cvc": card["cvc"],
        "amount": 2500,
        "currency": "usd",
    }
    body.update(overrides)
    return body


def wrong_cvc(cvc: str) -> str:
    return f"{(int(cvc) + 1) % 1000:03d}"
