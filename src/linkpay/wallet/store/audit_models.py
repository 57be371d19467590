"""Tables of the tamper-evident audit log (created by migration 0003_audit).

`audit_log` is append-only: each entry stores the SHA-256 of its own canonical form,
which includes the previous entry's hash, so editing, deleting or reordering a row
breaks the chain from that row on. `audit_head` is a single row naming the last entry:
it is the lock appenders take (one chain, never forked) and it lets `verify` notice
entries cut off the end of the log.
"""

from datetime import datetime

from sqlalchemy import Connection, Index, Integer, String, Table, Text, event, insert
from sqlalchemy.orm import Mapped, mapped_column

from linkpay.wallet.store.models import Base, UTCDateTime

__all__ = ["AuditEntry", "AuditHead"]


class AuditEntry(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    type: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    # The person whose record this is (the activity page filters on it); None for
    # wallet-wide events.
    user_id: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text)  # canonical JSON (RFC 8785)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_audit_log_user_seq", "user_id", "seq"),
        Index("ix_audit_log_subject", "subject"),
    )


class AuditHead(Base):
    """Exactly one row (id 1): the newest entry's seq and hash (0 and the genesis hash
    while the log is empty)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(AuditHead.__table__, "after_create")
def _seed_head(table: Table, connection: Connection, **_: object) -> None:
    """A database built from the models (not the migrations) gets the head row too:
    an empty log whose last hash is the genesis hash (64 zeros, as in 0003_audit)."""
    connection.execute(insert(table).values(id=1, seq=0, hash="0" * 64))
