"""Test network shapes: card charges and SPT payment intents.

Card charge endpoint (our choice, the spec leaves the path open):
`POST /v1/test_network/card_charges` with a merchant key, JSON body `CardChargeRequest`.
A decline answers 402 with a Stripe-shaped error body
`{"error": {"type": "card_error", "code": "card_declined", "decline_code": …, "message": …}}`.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CardChargeRequest(BaseModel):
    number: str = Field(min_length=12, max_length=19, pattern=r"^\d+$")
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2200)
    cvc: str = Field(min_length=3, max_length=4, pattern=r"^\d+$")
    amount: int = Field(gt=0, le=10_000_000)
    currency: str = Field(default="usd", pattern=r"^[a-z]{3}$")
    description: str | None = Field(default=None, max_length=500)

    def __repr__(self) -> str:  # never show the PAN or CVC in logs or tracebacks
        return f"CardChargeRequest(last4={self.number[-4:]!r}, amount={self.amount})"

    __str__ = __repr__


class CardCharge(BaseModel):
    id: str  # ch_…
    object: Literal["charge"] = "charge"
    status: Literal["succeeded", "failed"]
    amount: int
    currency: str
    decline_code: str | None = None
    failure_message: str | None = None
    spend_request_id: str | None = None
    card_last4: str | None = None
    created: int


class PaymentIntent(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str  # pi_…
    object: Literal["payment_intent"] = "payment_intent"
    status: str
    amount: int
    currency: str
    created: int
    metadata: dict[str, Any] = Field(default_factory=dict)
    shared_payment_granted_token: str | None = None
