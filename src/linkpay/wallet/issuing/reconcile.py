"""Reconcile: close what is open at the issuer but not usable in our records.

A crash between an issuer call and our commit, a failed close on cancel, or a card
whose `valid_until` passed while nobody touched it, can each leave a card or token
open at the issuer. `reconcile` lists the issuer's open credentials and closes every
one that is not an `active`, unexpired credential of ours. Cards younger than
`grace_seconds` and unknown to us are left alone: they may belong to an approval still
in flight on another worker (its commit is a moment away).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from linkpay.wallet.issuing.base import IssuingError, OpenCredential
from linkpay.wallet.issuing.connections import active_connection, build_issuer
from linkpay.wallet.store.models import Credential

GRACE_SECONDS = 300


@dataclass
class ReconcileReport:
    provider: str | None
    checked: int = 0
    closed: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider or "test",
            "checked": self.checked,
            "closed": self.closed,
            "failed": self.failed,
        }


def _why_close(session: Session, provider: str, found: OpenCredential, now: datetime) -> str | None:
    credential = session.scalars(
        select(Credential).where(
            Credential.issuer == provider, Credential.issuer_ref == found.issuer_ref
        )
    ).first()
    if credential is None:
        return "orphan: no credential of ours"
    if credential.status != "active":
        return f"our credential is {credential.status}"
    if credential.valid_until <= now:
        session.execute(
            update(Credential)
            .where(Credential.id == credential.id, Credential.status == "active")
            .values(status="expired", secret_ciphertext=None)
            .execution_options(synchronize_session=False)
        )
        return "valid_until passed"
    return None


def reconcile(
    session: Session, settings: Any, *, grace_seconds: int = GRACE_SECONDS
) -> ReconcileReport:
    connection = active_connection(session)
    if connection is None:
        return ReconcileReport(provider=None)  # the test issuer keeps nothing elsewhere
    issuer = build_issuer(settings, connection)
    now = datetime.now(UTC)
    report = ReconcileReport(provider=connection.provider)
    for found in issuer.open_credentials():
        report.checked += 1
        why = _why_close(session, connection.provider, found, now)
        if why is None or (why.startswith("orphan") and _young(found, now, grace_seconds)):
            continue
        entry = {
            "id": found.issuer_ref,
            "kind": found.kind,
            "spend_request_id": found.spend_request_id,
            "why": why,
        }
        try:
            issuer.void(found.issuer_ref, idempotency_key=f"reconcile:{found.issuer_ref}")
        except IssuingError as error:
            report.failed.append({**entry, "error": str(error)})
        else:
            report.closed.append(entry)
    return report


def _young(found: OpenCredential, now: datetime, grace_seconds: int) -> bool:
    return found.created is not None and (now - found.created).total_seconds() < grace_seconds
