"""The wallet's own periodic tasks (registered on import, run by `jobs.periodic`):

- `expire`: persist the `expired` status of spend requests whose window has passed
  (they already *read* expired; this keeps lists and the database honest and voids
  their credentials), and shred the sealed secrets of credentials past their validity.
- `issuer_reconcile`: with a live issuer connected, close the cards and tokens open at
  the issuer that our records do not hold usable (`issuing/reconcile.py`): orphans of
  a crashed approval, closes that failed, cards past `valid_until`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from linkpay.wallet.issuing.reconcile import reconcile
from linkpay.wallet.issuing.service import expire_credentials
from linkpay.wallet.jobs.periodic import register_periodic
from linkpay.wallet.spend.windows import expire_if_due
from linkpay.wallet.store.models import SpendRequest, utcnow

EXPIRE_EVERY_SECONDS = 60.0
RECONCILE_EVERY_SECONDS = 900.0
_BATCH = 500


def expire_due(session: Session, _settings: Any) -> int:
    """One batch of due expiries and credential shredding; returns requests expired."""
    now = utcnow()
    due = session.scalars(
        select(SpendRequest)
        .where(
            or_(
                and_(
                    SpendRequest.status.in_(("created", "pending_approval")),
                    SpendRequest.approval_expires_at <= now,
                ),
                and_(
                    SpendRequest.status == "approved",
                    SpendRequest.credential_valid_until <= now,
                ),
                and_(
                    SpendRequest.status.in_(("created", "pending_approval", "approved")),
                    SpendRequest.expires_at <= now,
                ),
            )
        )
        .limit(_BATCH)
    ).all()
    for row in due:
        expire_if_due(session, row, now)
    expire_credentials(session, now)
    return len(due)


register_periodic("expire", EXPIRE_EVERY_SECONDS, expire_due)


def reconcile_issuer(session: Session, settings: Any) -> int:
    """One reconcile pass; returns how many credentials it closed at the issuer."""
    return len(reconcile(session, settings).closed)


register_periodic("issuer_reconcile", RECONCILE_EVERY_SECONDS, reconcile_issuer)
