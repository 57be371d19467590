"""The plain retrieve, `GET /spend_requests/{id}` with no query string: what agents
poll most, so it gets its own read path.

One statement answers it, outside any transaction (`store.db.single_read`): the bearer
token's row, left-joined to the request (answered only when it belongs to the token's
person), its credential's brand and last 4, and the policy decision. No ORM session and
no separate transaction for authentication. The token is checked against the database on
every request (nothing is cached), so a revocation holds from its commit on.

`read_plain` returns None whenever the answer would not be a plain 200 (a token that is
unknown, expired, revoked or lacks the scope; a request that is missing or someone
else's; an expiry due to be persisted), and the caller takes the general route, which
words each of those answers, and persists the expiry, as it always has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, select

from linkpay.wallet.auth.tokens import ACCESS_PREFIX, access_live, hash_token
from linkpay.wallet.spend.reads import expiry_due
from linkpay.wallet.spend.serialize import Renderable
from linkpay.wallet.store.db import single_read
from linkpay.wallet.store.models import Credential, OAuthToken, SpendRequest
from linkpay.wallet.store.policy_models import SpendDecision

_TOKENS = OAuthToken.__table__
_REQUESTS = SpendRequest.__table__
_CREDENTIALS = Credential.__table__
_DECISIONS = SpendDecision.__table__
# The columns the wire form shows, labelled with their attribute names (`metadata` is
# `request_metadata`): the statement's row is a `serialize.Renderable` as it comes.
_REQUEST_KEYS = tuple(
    (key, SpendRequest.__mapper__.column_attrs[key].columns[0].name)
    for key in (
        "id",
        "status",
        "credential_type",
        "network_id",
        "amount",
        "currency",
        "merchant_name",
        "merchant_url",
        "context",
        "line_items",
        "totals",
        "payment_method_id",
        "request_metadata",
        "test",
        "expires_at",
        "approval_expires_at",
        "credential_valid_until",
        "payment_status_details",
        "status_details",
        "created_at",
        "updated_at",
    )
)
_STATEMENT = (
    select(
        _TOKENS.c.revoked_at.label("token_revoked_at"),
        _TOKENS.c.access_expires_at.label("token_expires_at"),
        _TOKENS.c.scope.label("token_scope"),
        _TOKENS.c.user_id.label("token_user_id"),
        _REQUESTS.c.user_id.label("request_user_id"),
        *(_REQUESTS.c[column].label(key) for key, column in _REQUEST_KEYS),
        _CREDENTIALS.c.id.label("credential_id"),
        _CREDENTIALS.c.brand.label("credential_brand"),
        _CREDENTIALS.c.last4.label("credential_last4"),
        _DECISIONS.c.by.label("decision_by"),
        _DECISIONS.c.rule.label("decision_rule"),
        _DECISIONS.c.reason.label("decision_reason"),
    )
    .select_from(
        # The request by its id alone, its owner compared after: with the owner in the
        # join too, PostgreSQL may reach the request through `(user_id)` and filter on
        # the id, reading every request of the person (it did, before its statistics
        # had the table's size).
        _TOKENS.outerjoin(_REQUESTS, _REQUESTS.c.id == bindparam("spend_request_id"))
        .outerjoin(_CREDENTIALS, _CREDENTIALS.c.spend_request_id == _REQUESTS.c.id)
        .outerjoin(_DECISIONS, _DECISIONS.c.spend_request_id == _REQUESTS.c.id)
    )
    .where(_TOKENS.c.access_token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class CardShown:
    """A credential's `serialize.CardFace`."""

    brand: str | None
    last4: str | None


@dataclass(frozen=True)
class PlainRead:
    """A request its agent may read, with what its wire form shows besides its row."""

    row: Renderable  # the statement's row
    credential: CardShown | None
    decision: dict[str, Any] | None


def read_plain(
    engine: Engine, token: str, spend_request_id: str, *, scope: str, now: datetime
) -> PlainRead | None:
    """The request for a plain 200, or None for the general route (module docstring)."""
    if not token.startswith(ACCESS_PREFIX):
        return None
    with single_read(engine) as connection:
        found = connection.execute(
            _STATEMENT, {"token_hash": hash_token(token), "spend_request_id": spend_request_id}
        ).first()
    if found is None:
        return None
    values = found._mapping
    if (
        not access_live(values["token_revoked_at"], values["token_expires_at"], now)
        or scope not in values["token_scope"].split()
        or values["id"] is None
        or values["request_user_id"] != values["token_user_id"]
    ):
        return None
    if expiry_due(found, now):
        return None
    credential = None
    if values["credential_id"] is not None:
        credential = CardShown(values["credential_brand"], values["credential_last4"])
    decision = None
    if values["decision_by"] is not None:  # the same rule as policy.service.decision_of
        decision = {
            "by": values["decision_by"],
            "rule": values["decision_rule"],
            "reason": values["decision_reason"],
        }
    return PlainRead(found, credential, decision)
