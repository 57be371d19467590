"""Who asked: a person's agent connections as the pages, receipts and notifications
name them ("Claude Code on vm", connected 3 days ago, 12 purchases asked for).

A connection is one device login (a token family); it keeps its name after it is
revoked, so old purchases still say which agent asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkpay.wallet.store.models import OAuthToken, SpendRequest


@dataclass(frozen=True)
class AgentSummary:
    family_id: str
    label: str  # the connection label the agent gave, else its client id
    client_id: str
    connected_at: datetime
    revoked: bool
    purchases_asked: int

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.family_id,
            "label": self.label,
            "client_id": self.client_id,
            "connected_at": self.connected_at.isoformat(),
            "revoked": self.revoked,
            "purchases_asked": self.purchases_asked,
        }


def agent_summaries(
    db: Session, user_id: str, family_ids: list[str] | None = None
) -> dict[str, AgentSummary]:
    """Every connection of the person (or just `family_ids`), by family id."""
    tokens = select(
        OAuthToken.family_id,
        OAuthToken.connection_label,
        OAuthToken.client_id,
        OAuthToken.created_at,
        OAuthToken.revoked_at,
    ).where(OAuthToken.user_id == user_id)
    counts = select(SpendRequest.token_family_id, func.count()).where(
        SpendRequest.user_id == user_id
    )
    if family_ids is not None:
        wanted = sorted({f for f in family_ids if f})
        if not wanted:
            return {}
        tokens = tokens.where(OAuthToken.family_id.in_(wanted))
        counts = counts.where(SpendRequest.token_family_id.in_(wanted))
    asked = dict(db.execute(counts.group_by(SpendRequest.token_family_id)).all())
    first: dict[str, tuple[str | None, str, datetime]] = {}
    live: dict[str, bool] = {}
    for family, label, client, created, revoked in db.execute(
        tokens.order_by(OAuthToken.created_at)
    ):
        first.setdefault(family, (label, client, created))
        live[family] = live.get(family, False) or revoked is None
    return {
        family: AgentSummary(
            family_id=family,
            label=(label or client or "An agent"),
            client_id=client,
            connected_at=created,
            revoked=not live[family],
            purchases_asked=int(asked.get(family, 0)),
        )
        for family, (label, client, created) in first.items()
    }


def agent_summary(db: Session, user_id: str, family_id: str | None) -> AgentSummary | None:
    if not family_id:
        return None
    return agent_summaries(db, user_id, [family_id]).get(family_id)
