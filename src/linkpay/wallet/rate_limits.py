"""Rate limits that count across every worker process and host.

The wallet's limiters (wrong device phrases, sign-in attempts) use the `limits`
library; what matters is where the counters live:

- `LINKPAY_RATE_LIMIT_STORAGE_URL` set: any `limits` storage URI, e.g.
  `redis://127.0.0.1:6379/0` (`pip install 'linkpay[redis]'`), its keys prefixed with
  `LINKPAY_RATE_LIMIT_KEY_PREFIX` (default `linkpay`); a storage that can't be reached
  raises `limits.errors.StorageError`, which the app answers with 503 (`overload.py`);
- otherwise on PostgreSQL: `SqlCounterStorage`, counters in the wallet's own database
  (table `rate_limit_counters`), so every process and host shares them with nothing
  else to run;
- otherwise (SQLite, one process): in memory.

`SqlCounterStorage` writes on its own short autocommit connection, so a hit counts even
when the request that caused it fails and rolls back (a wrong phrase must count).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from limits import storage, strategies
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

_UPSERT = text(
    """
    INSERT INTO rate_limit_counters (bucket, count, expires_at)
    VALUES (:bucket, :amount, :window_end)
    ON CONFLICT (bucket) DO UPDATE SET
      count = CASE WHEN rate_limit_counters.expires_at <= :now
                   THEN :amount ELSE rate_limit_counters.count + :amount END,
      expires_at = CASE WHEN rate_limit_counters.expires_at <= :now
                        THEN :window_end ELSE rate_limit_counters.expires_at END
    RETURNING count
    """
)
_PRUNE_CHANCE = 0.01  # now and then, drop counters whose window ended an hour ago


class SqlCounterStorage(storage.Storage):
    """Fixed-window counters in the wallet database (PostgreSQL or SQLite)."""

    STORAGE_SCHEME = ["linkpay-sql"]

    def __init__(self, engine: Engine) -> None:
        super().__init__(uri=None, wrap_exceptions=False)
        self._engine = engine

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._engine.begin() as conn:
            count = conn.execute(
                _UPSERT,
                {"bucket": key, "amount": amount, "window_end": now + expiry, "now": now},
            ).scalar_one()
            if random.random() < _PRUNE_CHANCE:  # noqa: S311 - not security relevant
                conn.execute(
                    text("DELETE FROM rate_limit_counters WHERE expires_at < :old"),
                    {"old": now - 3600},
                )
        return int(count)

    def get(self, key: str) -> int:
        with self._engine.connect() as conn:
            count = conn.execute(
                text(
                    "SELECT count FROM rate_limit_counters "
                    "WHERE bucket = :bucket AND expires_at > :now"
                ),
                {"bucket": key, "now": time.time()},
            ).scalar()
            conn.rollback()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        with self._engine.connect() as conn:
            expires_at = conn.execute(
                text("SELECT expires_at FROM rate_limit_counters WHERE bucket = :bucket"),
                {"bucket": key},
            ).scalar()
            conn.rollback()
        return float(expires_at) if expires_at is not None else time.time()

    def check(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                conn.rollback()
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine.begin() as conn:
            return conn.execute(text("DELETE FROM rate_limit_counters")).rowcount

    def clear(self, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                text("DELETE FROM rate_limit_counters WHERE bucket = :bucket"), {"bucket": key}
            )


# `limits` storages whose keys take a prefix (Redis and its forks).
_PREFIXED_SCHEMES = ("redis", "rediss", "valkey", "valkeys")


def build_storage(settings: Any, engine: Engine) -> storage.Storage:
    """Where this wallet keeps its rate-limit counters (see the module docstring)."""
    url = getattr(settings, "rate_limit_storage_url", "") or ""
    if url:
        options: dict[str, Any] = {"wrap_exceptions": True}
        if url.partition(":")[0].partition("+")[0] in _PREFIXED_SCHEMES:
            options["key_prefix"] = getattr(settings, "rate_limit_key_prefix", "linkpay")
        configured = storage.storage_from_string(url, **options)
        if not isinstance(configured, storage.Storage):
            raise ValueError("rate_limit_storage_url must name a synchronous limits storage")
        return configured
    if engine.dialect.name == "postgresql":
        return SqlCounterStorage(engine)
    return storage.MemoryStorage()


def build_limiter(settings: Any, engine: Engine) -> strategies.RateLimiter:
    """One limiter for the whole app; callers namespace their keys."""
    return strategies.FixedWindowRateLimiter(build_storage(settings, engine))


@dataclass(frozen=True)
class RateLimiters:
    """The app's limiters, built once by `create_app` (never module globals, so two apps
    in one process share no budget). Both count in the same storage; their keys are
    namespaced."""

    # Password, email-link and passkey sign-in attempts per client address.
    signin: strategies.RateLimiter
    # Wrong device-login phrases typed by a person.
    device_phrase: strategies.RateLimiter

    @classmethod
    def build(cls, settings: Any, engine: Engine) -> RateLimiters:
        limiter = build_limiter(settings, engine)
        return cls(signin=limiter, device_phrase=limiter)
