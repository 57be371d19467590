"""Tables that let several wallet processes share state: rate-limit counters (so a
limit counts across workers and hosts) and the durable job outbox. Same `Base` as
models.py; created by migrations 0005_capacity and 0008_outbox."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from linkpay.wallet.store.models import Base, UTCDateTime, utcnow

__all__ = ["OutboxJob", "RateLimitCounter"]


class RateLimitCounter(Base):
    """One fixed-window counter of the `limits` library (`wallet.rate_limits`)."""

    __tablename__ = "rate_limit_counters"

    bucket: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    # Unix time the window ends (the `limits` storage API speaks epoch seconds).
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class OutboxJob(Base):
    """A durable job (`wallet.jobs`): written in the transaction that causes it, claimed
    by one worker at a time under a lease, retried with backoff until done or given up.
    Notifications use one job per delivery channel."""

    __tablename__ = "outbox_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(60))
    # Same key, same job: a fan-out that runs twice creates each delivery once.
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # pending -> running (leased) -> done | failed; back to pending to retry.
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The claiming worker's fencing token and lease; a dead worker's lease runs out.
    lease_token: Mapped[str | None] = mapped_column(String(40))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_outbox_jobs_due", "state", "run_after"),)
