"""The one authorization decision: may this card be charged this much, here, now?

Every backend asks the same question through `decide`: Stripe's
`issuing_authorization.request` webhook, Lithic's Auth Stream Access webhook and the
test network's card charge path, so the offline demo runs exactly the rules that guard
real money. Approve only when all hold (checked in this order, the first failure is the
reason):

| reason               | refused when                                                     |
|----------------------|------------------------------------------------------------------|
| unknown_card         | no credential of ours has this issuer card id                    |
| wallet_paused        | the person pressed "stop everything"                             |
| card_used            | the card was captured (or is otherwise used) already             |
| card_canceled        | the card was voided: request canceled, updated or stopped        |
| expired              | past the credential's `valid_until` (or the request's deadline)  |
| request_not_approved | the spend request is not `approved` (succeeded, failed, …)       |
| request_changed      | the request's purchase differs from what the person approved     |
| currency_mismatch    | another currency than approved                                   |
| merchant_mismatch    | the network's merchant is not the approved one (`merchant.py`)   |
| amount_over_approved | this amount plus the card's earlier approved authorizations is   |
|                      | above the approved amount (incremental authorizations summed)    |

A card used while we decided is still `card_used`, not `amount_over_approved`: on
PostgreSQL (read committed) a concurrent charge can commit between our read of the card
and the sum of its authorizations, so the sum counts the winner's amount while our copy
of the card still says `active`. Before blaming the amount, the card's and the request's
statuses are read again (`_used_meanwhile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkpay.wallet.binding import material_hash
from linkpay.wallet.decide.merchant import merchant_matches
from linkpay.wallet.spend.windows import effective_status
from linkpay.wallet.store.issuer_models import AuthorizationDecision
from linkpay.wallet.store.models import Credential, SpendRequest, User

APPROVED = "approved"
MESSAGES = {
    APPROVED: "Matches the purchase the person approved.",
    "unknown_card": "This card was not issued by this wallet.",
    "wallet_paused": "The person stopped all spending.",
    "card_used": "This one-time card has already been used.",
    "card_canceled": "The card was canceled (the request was canceled, changed or stopped).",
    "expired": "The card's approval has expired.",
    "request_not_approved": "The spend request is no longer approved.",
    "request_changed": "The purchase changed after the person approved it.",
    "currency_mismatch": "The currency differs from the approved one.",
    "merchant_mismatch": "The merchant is not the one the person approved.",
    "amount_over_approved": "The amount is above what the person approved.",
}


@dataclass(frozen=True)
class AuthorizationAsk:
    """One authorization as a card network presents it, in our terms."""

    issuer: str  # stripe | lithic | test
    card_ref: str  # the issuer's card id (Credential.issuer_ref)
    amount: int  # minor units asked now (for an incremental authorization: the increase)
    currency: str
    merchant_name: str | None
    merchant_url: str | None = None
    authorization_ref: str | None = None
    livemode: bool = False


@dataclass(frozen=True)
class Decision:
    approved: bool
    reason: str
    credential: Credential | None = None
    spend_request: SpendRequest | None = None

    @property
    def message(self) -> str:
        return MESSAGES[self.reason]


def find_credential(session: Session, issuer: str, card_ref: str) -> Credential | None:
    return session.scalars(
        select(Credential).where(Credential.issuer == issuer, Credential.issuer_ref == card_ref)
    ).first()


def approved_so_far(session: Session, credential_id: str) -> int:
    """What this card's earlier approved authorizations add up to."""
    total = session.scalar(
        select(func.coalesce(func.sum(AuthorizationDecision.amount), 0)).where(
            AuthorizationDecision.credential_id == credential_id,
            AuthorizationDecision.approved.is_(True),
        )
    )
    return int(total or 0)


def decide(session: Session, ask: AuthorizationAsk, now: datetime | None = None) -> Decision:
    """Approve or refuse `ask`; reads only (see `record.authorize` to also record it)."""
    now = now or datetime.now(UTC)
    credential = find_credential(session, ask.issuer, ask.card_ref)
    request = session.get(SpendRequest, credential.spend_request_id) if credential else None
    if credential is None or request is None:
        return Decision(False, "unknown_card")

    def no(reason: str) -> Decision:
        return Decision(False, reason, credential, request)

    person = session.get(User, request.user_id)
    if person is None or person.spending_paused:
        return no("wallet_paused")
    if credential.status == "used" or request.status == "succeeded":
        return no("card_used")
    if credential.status == "voided" or request.status == "canceled":
        return no("card_canceled")
    if (
        credential.status == "expired"
        or credential.valid_until <= now
        or effective_status(request, now) == "expired"
    ):
        return no("expired")
    if credential.status != "active" or request.status != "approved":
        return no("request_not_approved")
    if request.approval_hash != credential.approval_hash or (
        material_hash(request) != credential.approval_hash
    ):
        return no("request_changed")
    if ask.currency.lower() != credential.currency.lower():
        return no("currency_mismatch")
    if not merchant_matches(
        approved_name=request.merchant_name,
        approved_url=request.merchant_url,
        seen_name=ask.merchant_name,
        seen_url=ask.merchant_url,
    ):
        return no("merchant_mismatch")
    if ask.amount <= 0 or ask.amount + approved_so_far(session, credential.id) > (
        credential.max_amount
    ):
        if _used_meanwhile(session, credential.id, request.id):
            return no("card_used")
        return no("amount_over_approved")
    return Decision(True, APPROVED, credential, request)


def _used_meanwhile(session: Session, credential_id: str, request_id: str) -> bool:
    """The card's and the request's statuses as committed now (fresh statements, not
    the session's copies): did another charge use the card while we decided?"""
    credential_status = session.scalar(
        select(Credential.status).where(Credential.id == credential_id)
    )
    request_status = session.scalar(
        select(SpendRequest.status).where(SpendRequest.id == request_id)
    )
    return credential_status == "used" or request_status == "succeeded"
