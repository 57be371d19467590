"""Tables of the tamper-evident audit log (created by migrations 0003_audit and
0009_audit_chains).

`audit_log` is append-only and holds `AUDIT_CHAINS` independent hash chains: each
entry stores its chain, its position in that chain (`chain_seq`) and the SHA-256 of
its own canonical form, which includes the previous entry's hash in the same chain, so
editing, deleting or reordering a row breaks its chain from that row on. `seq` is one
number across all chains (the order entries were written in; on PostgreSQL from the
`audit_log_seq` sequence, so it may skip numbers). `audit_head` has one row per chain
naming its last entry: it is the lock appenders take (no chain is ever forked) and it
lets `verify` notice entries cut off the end of a chain.

Several chains let PostgreSQL writers append side by side instead of queueing on one
row until their commit; SQLite writes only chain 1 (its write lock is global anyway).
"""

from datetime import datetime

from sqlalchemy import (
    Connection,
    Index,
    Integer,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    insert,
)
from sqlalchemy.orm import Mapped, mapped_column

from linkpay.wallet.store.models import Base, UTCDateTime

__all__ = ["AUDIT_CHAINS", "AUDIT_SEQ", "AuditEntry", "AuditHead"]

# Chains 1..AUDIT_CHAINS (head rows seeded by 0009_audit_chains and by `_seed_heads`).
AUDIT_CHAINS = 16
# PostgreSQL only (SQLite has no sequences and numbers entries under its write lock).
AUDIT_SEQ = Sequence("audit_log_seq", metadata=Base.metadata)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    chain: Mapped[int] = mapped_column(Integer, server_default="1")
    chain_seq: Mapped[int] = mapped_column(Integer)  # 1, 2, 3… within `chain`
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    type: Mapped[str] = mapped_column(String(60))
    actor: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    # The person whose record this is (the activity page filters on it); None for
    # wallet-wide events.
    user_id: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text)  # canonical JSON (RFC 8785)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        # One entry per position and one successor per entry, in each chain: a fork
        # is refused by the database even if the head lock were bypassed.
        UniqueConstraint("chain", "chain_seq", name="uq_audit_log_chain_seq"),
        UniqueConstraint("chain", "prev_hash", name="uq_audit_log_chain_prev_hash"),
        Index("ix_audit_log_user_seq", "user_id", "seq"),
        Index("ix_audit_log_subject", "subject"),
    )


class AuditHead(Base):
    """One row per chain (`id` 1..AUDIT_CHAINS): the chain's newest entry's
    `chain_seq` (as `seq`) and hash (0 and the genesis hash while it is empty)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(AuditHead.__table__, "after_create")
def _seed_heads(table: Table, connection: Connection, **_: object) -> None:
    """A database built from the models (not the migrations) gets the head rows too:
    empty chains whose last hash is the genesis hash (64 zeros, as in the revisions)."""
    connection.execute(
        insert(table),
        [{"id": chain, "seq": 0, "hash": "0" * 64} for chain in range(1, AUDIT_CHAINS + 1)],
    )
