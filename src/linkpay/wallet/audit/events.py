"""Names of audit events and actors, so every caller spells them the same way.

Event types are `<area>.<what happened>`. Actors are `<kind>:<id>`: the person
(`person:usr_…`), an agent connection (`agent:<token family>`), a merchant
(`merchant:mer_…`), the shell (`operator`, a `link-wallet` command run on the wallet's
host) or the wallet itself (`system`: expiry, policy).
"""

from __future__ import annotations

DEVICE_APPROVED = "device.approved"
DEVICE_DENIED = "device.denied"
AGENT_REVOKED = "agent.revoked"
SPEND_REQUEST_CREATED = "spend_request.created"
CREDENTIAL_REVEALED = "credential.revealed"
CHARGE_SUCCEEDED = "charge.succeeded"
CHARGE_DECLINED = "charge.declined"
ISSUER_DECISION = "issuer.decision"
POLICY_DECISION = "policy.decision"
LIMIT_CHANGED = "limit.changed"
RULE_CHANGED = "rule.changed"
SPENDING_PAUSED = "spending.paused"
SPENDING_RESUMED = "spending.resumed"
SIGNIN = "signin.succeeded"
SIGNIN_LINK_CREATED = "signin.link_created"
PAYMENT_METHOD_ADDED = "payment_method.added"
PAYMENT_METHOD_REMOVED = "payment_method.removed"
PAYMENT_METHOD_DEFAULT = "payment_method.default_set"
ADDRESS_ADDED = "shipping_address.added"
ADDRESS_UPDATED = "shipping_address.updated"
ADDRESS_REMOVED = "shipping_address.removed"
ADDRESS_DEFAULT = "shipping_address.default_set"
PROFILE_UPDATED = "profile.updated"

# A spend request's change of status, by the status it moved to.
SPEND_STATUS_EVENTS = {
    "pending_approval": "spend_request.approval_requested",
    "approved": "spend_request.approved",
    "denied": "spend_request.denied",
    "canceled": "spend_request.canceled",
    "expired": "spend_request.expired",
    "succeeded": "spend_request.succeeded",
    "failed": "spend_request.failed",
    "requires_action": "spend_request.requires_action",
}

SYSTEM = "system"
OPERATOR = "operator"


def person(user_id: str) -> str:
    return f"person:{user_id}"


def agent(token_family_id: str | None) -> str:
    return f"agent:{token_family_id}" if token_family_id else "agent"


def merchant(merchant_id: str) -> str:
    return f"merchant:{merchant_id}"


def spend_actor(actor: str, *, user_id: str, token_family_id: str | None) -> str:
    """The full actor for a spend request transition's short actor name."""
    if actor == "person":
        return person(user_id)
    if actor == "agent":
        return agent(token_family_id)
    return actor
