"""RFC 8628 device authorization grant .

Agent side: `start_device_grant` (POST /device/code) and `poll_device_grant`
(POST /device/token). Person side (admin CLI, web app): `lookup_pending_grant`,
`approve_device_grant`, `deny_device_grant`.

The device code is 32 random bytes stored as SHA-256. The user code is a three-word
phrase stored as HMAC-SHA256 with the server pepper (a DB dump alone can't brute-force
it), compared case-, space- and hyphen-insensitively. Person-side guesses are rate
limited per person. Every state change is a conditional UPDATE so a grant is approved,
denied or consumed exactly once, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from limits import parse, strategies
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from linkpay.wallet import audit
from linkpay.wallet.auth.tokens import IssuedTokens, issue_tokens
from linkpay.wallet.auth.words import WORDS
from linkpay.wallet.errors import InvalidRequest, RateLimited, Unavailable
from linkpay.wallet.ids import new_id
from linkpay.wallet.settings import Settings
from linkpay.wallet.store.models import DeviceGrant, utcnow

DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP_SECONDS = 5
PHRASE_WORDS = 3

# Failed person-side phrase guesses allowed per person (`RateLimiters.device_phrase`).
PHRASE_GUESS_LIMIT = parse("10/minute")
GuessLimiter = strategies.RateLimiter


@dataclass(frozen=True)
class StartedGrant:
    grant: DeviceGrant
    device_code: str
    user_code: str


@dataclass(frozen=True)
class PollOutcome:
    """Either `tokens` (approved) or an RFC 6749 `error` (+ description)."""

    tokens: IssuedTokens | None = None
    error: str | None = None
    description: str | None = None


def new_phrase() -> str:
    return "-".join(secrets.choice(WORDS) for _ in range(PHRASE_WORDS))


def normalize_phrase(user_code: str) -> str:
    return re.sub(r"[\s\-_.]+", "", user_code).lower()


def hash_phrase(pepper: bytes, user_code: str) -> str:
    return hmac.new(pepper, normalize_phrase(user_code).encode(), hashlib.sha256).hexdigest()


def hash_device_code(device_code: str) -> str:
    return hashlib.sha256(device_code.encode()).hexdigest()


def _pepper(session: Session) -> bytes:
    """The pepper of the wallet this session belongs to (`open_store` puts the settings
    in `session.info`); falls back to the environment's settings."""
    settings = session.info.get("settings")
    if not isinstance(settings, Settings):
        settings = Settings.from_env()
        session.info["settings"] = settings
    return settings.pepper


def start_device_grant(
    session: Session,
    *,
    settings: Settings,
    client_id: str,
    scope: str,
    connection_label: str | None,
    client_hint: str | None,
    authorization_details: list[Any] | None = None,
) -> StartedGrant:
    now = utcnow()
    for _ in range(10):  # phrases must be unique among live grants
        user_code = new_phrase()
        phrase_hash = hash_phrase(settings.pepper, user_code)
        clash = session.scalars(
            select(DeviceGrant.id).where(
                DeviceGrant.user_code_hash == phrase_hash, DeviceGrant.expires_at > now
            )
        ).first()
        if clash is None:
            break
    else:  # pragma: no cover - 29 million phrases
        raise Unavailable("Could not allocate a login phrase; retry")
    device_code = secrets.token_urlsafe(32)
    grant = DeviceGrant(
        id=new_id("dgr"),
        device_code_hash=hash_device_code(device_code),
        user_code_hash=phrase_hash,
        client_id=client_id,
        scope=scope,
        connection_label=connection_label,
        client_hint=client_hint,
        authorization_details=authorization_details,
        status="pending",
        interval=settings.device_poll_interval,
        expires_at=now + timedelta(seconds=settings.device_code_ttl_seconds),
        created_at=now,
    )
    session.add(grant)
    session.flush()
    return StartedGrant(grant, device_code, user_code)


def poll_device_grant(
    session: Session, *, settings: Settings, device_code: str, client_id: str
) -> PollOutcome:
    """One token poll. Returns an outcome instead of raising so that the caller commits
    the remembered poll time and slowed-down interval along with an error answer."""
    grant = session.scalars(
        select(DeviceGrant).where(DeviceGrant.device_code_hash == hash_device_code(device_code))
    ).first()
    if grant is None or grant.client_id != client_id:
        return PollOutcome(error="invalid_grant", description="unknown device_code")
    now = utcnow()
    if grant.status == "consumed":
        return PollOutcome(error="invalid_grant", description="device_code already used")
    if grant.status == "denied":
        return PollOutcome(error="access_denied", description="the person denied the request")
    if grant.expires_at <= now:
        return PollOutcome(error="expired_token", description="the login request expired")
    if grant.status == "pending":
        too_fast = (
            grant.last_polled_at is not None
            and (now - grant.last_polled_at).total_seconds() < grant.interval
        )
        grant.last_polled_at = now
        if too_fast:
            grant.interval += SLOW_DOWN_STEP_SECONDS
            return PollOutcome(
                error="slow_down", description=f"poll at most every {grant.interval} seconds"
            )
        return PollOutcome(
            error="authorization_pending", description="waiting for the person to approve"
        )
    claimed = session.execute(
        update(DeviceGrant)
        .where(DeviceGrant.id == grant.id, DeviceGrant.status == "approved")
        .values(status="consumed", last_polled_at=now)
        .returning(DeviceGrant.user_id)
    ).first()
    if claimed is None or claimed.user_id is None:
        return PollOutcome(error="invalid_grant", description="device_code already used")
    tokens = issue_tokens(
        session,
        user_id=claimed.user_id,
        client_id=grant.client_id,
        scope=grant.scope,
        connection_label=grant.connection_label,
        authorization_details=grant.authorization_details,
        access_ttl=settings.access_token_ttl_seconds,
        refresh_ttl=settings.refresh_token_ttl_seconds,
    )
    return PollOutcome(tokens=tokens)


def _check_guess_budget(limiter: GuessLimiter | None, attempt_key: str) -> None:
    if limiter is not None and not limiter.test(PHRASE_GUESS_LIMIT, "device_phrase", attempt_key):
        raise RateLimited("Too many wrong phrases; wait a minute and try again", retry_after=60)


def _find_pending(session: Session, pepper: bytes, user_code: str) -> DeviceGrant | None:
    if not normalize_phrase(user_code):
        return None
    return session.scalars(
        select(DeviceGrant).where(
            DeviceGrant.user_code_hash == hash_phrase(pepper, user_code),
            DeviceGrant.status == "pending",
            DeviceGrant.expires_at > utcnow(),
        )
    ).first()


def lookup_pending_grant(
    session: Session,
    user_code: str,
    *,
    attempt_key: str | None = None,
    limiter: GuessLimiter | None = None,
) -> DeviceGrant | None:
    """The pending, unexpired grant for a phrase (to show the person what asks to
    connect), or None. With `attempt_key` (e.g. the person's id or client address) and a
    `limiter`, misses count against the guess budget and an exhausted budget raises 429."""
    if attempt_key is not None:
        _check_guess_budget(limiter, attempt_key)
    grant = _find_pending(session, _pepper(session), user_code)
    if grant is None and attempt_key is not None and limiter is not None:
        limiter.hit(PHRASE_GUESS_LIMIT, "device_phrase", attempt_key)
    return grant


def _decide(
    session: Session, *, user_id: str, user_code: str, status: str, limiter: GuessLimiter | None
) -> DeviceGrant:
    _check_guess_budget(limiter, user_id)
    grant = _find_pending(session, _pepper(session), user_code)
    now = utcnow()
    decided = None
    if grant is not None:
        decided = session.execute(
            update(DeviceGrant)
            .where(DeviceGrant.id == grant.id, DeviceGrant.status == "pending")
            .values(status=status, user_id=user_id, decided_at=now)
            .returning(DeviceGrant.id)
        ).first()
    if decided is None or grant is None:
        if limiter is not None:
            limiter.hit(PHRASE_GUESS_LIMIT, "device_phrase", user_id)
        raise InvalidRequest(
            "No pending connection request matches that phrase (it may have expired)",
            param="user_code",
        )
    session.refresh(grant)
    audit.record_event(
        session,
        audit.events.DEVICE_APPROVED if status == "approved" else audit.events.DEVICE_DENIED,
        actor=audit.events.person(user_id),
        subject=grant.id,
        user_id=user_id,
        data={
            "client_id": grant.client_id,
            "connection_label": grant.connection_label,
            "scope": grant.scope,
        },
    )
    return grant


def approve_device_grant(
    session: Session, *, user_id: str, user_code: str, limiter: GuessLimiter | None = None
) -> DeviceGrant:
    """The person lets the agent connect to their wallet. Wrong phrases count against
    `limiter` (the web app's; the operator's CLI has none)."""
    return _decide(
        session, user_id=user_id, user_code=user_code, status="approved", limiter=limiter
    )


def deny_device_grant(
    session: Session, *, user_id: str, user_code: str, limiter: GuessLimiter | None = None
) -> DeviceGrant:
    """The person refuses; the agent's next poll gets `access_denied`."""
    return _decide(session, user_id=user_id, user_code=user_code, status="denied", limiter=limiter)
