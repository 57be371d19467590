"""Tables that let several wallet processes share state: rate-limit counters (so a
limit counts across workers and hosts). Same `Base` as models.py; created by migration
0005_capacity."""

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from linkpay.wallet.store.models import Base

__all__ = ["RateLimitCounter"]


class RateLimitCounter(Base):
    """One fixed-window counter of the `limits` library (`wallet.rate_limits`)."""

    __tablename__ = "rate_limit_counters"

    bucket: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    # Unix time the window ends (the `limits` storage API speaks epoch seconds).
    expires_at: Mapped[float] = mapped_column(Float, index=True)
