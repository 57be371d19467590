"""Server-side web sessions and CSRF protection.

The session cookie carries a 256-bit random id; the `web_sessions` row keeps only its
SHA-256, the user, and a per-session CSRF secret. Cookies are HttpOnly, SameSite=Lax and
Secure (named `__Host-…`) whenever the wallet is reached over https.

CSRF is layered: for every unsafe request the browser's
`Sec-Fetch-Site` must be same-origin/none, or, when absent, `Origin`/`Referer` must be
our own origin (or `null`, which no-referrer pages on plain http produce); and forms
carry a synchronizer token, HMAC(session secret, purpose). Before sign-in, forms use
an anonymous pre-session cookie instead of the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from starlette.responses import Response

from linkpay.wallet import audit
from linkpay.wallet.store.models import User
from linkpay.wallet.store.web_models import WebSession
from linkpay.wallet.web.http import SignInRequired, WebError

SESSION_COOKIE = "linkpay_session"
PRESESSION_COOKIE = "linkpay_pre"


@dataclass(frozen=True)
class Person:
    """The signed-in person for this request."""

    user_id: str
    email: str
    name: str | None
    session_hash: str
    csrf_secret: str
    auth_method: str


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def is_https(request: Request) -> bool:
    settings = request.app.state.settings
    return request.url.scheme == "https" or str(settings.public_url).startswith("https://")


def cookie_name(request: Request, base: str) -> str:
    # `__Host-` cookies must be Secure; browsers drop them on plain http.
    return f"__Host-{base}" if is_https(request) else base


def _set_cookie(request: Request, response: Response, base: str, value: str, max_age: int) -> None:
    response.set_cookie(
        cookie_name(request, base),
        value,
        max_age=max_age,
        path="/",
        secure=is_https(request),
        httponly=True,
        samesite="lax",
    )


def start_session(
    session: Session, request: Request, response: Response, *, user_id: str, auth_method: str
) -> None:
    """A fresh session id at every sign-in (no session fixation)."""
    settings = request.app.state.settings
    old = request.cookies.get(cookie_name(request, SESSION_COOKIE))
    if old:
        end_session_by_cookie(session, old)
    _forget_stale_rows(session)
    raw = secrets.token_urlsafe(32)
    ttl = int(settings.web_session_ttl_seconds)
    session.add(
        WebSession(
            id_hash=_sha256(raw),
            user_id=user_id,
            csrf_secret=secrets.token_hex(32),
            auth_method=auth_method,
            data={},
            user_agent=(request.headers.get("user-agent") or "")[:300],
            expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
        )
    )
    _set_cookie(request, response, SESSION_COOKIE, raw, ttl)
    audit.record_event(
        session,
        audit.events.SIGNIN,
        actor=audit.events.person(user_id),
        subject=user_id,
        user_id=user_id,
        data={"method": auth_method, "user_agent": (request.headers.get("user-agent") or "")[:300]},
    )


def _forget_stale_rows(session: Session) -> None:
    """Housekeeping at each sign-in: sessions and sign-in links dead for over a day."""
    from linkpay.wallet.store.web_models import SignInToken

    cutoff = datetime.now(UTC) - timedelta(days=1)
    session.execute(delete(WebSession).where(WebSession.expires_at < cutoff))
    session.execute(delete(WebSession).where(WebSession.revoked_at < cutoff))
    session.execute(delete(SignInToken).where(SignInToken.expires_at < cutoff))


def end_session_by_cookie(session: Session, raw: str) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.id_hash == _sha256(raw), WebSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        cookie_name(request, SESSION_COOKIE),
        path="/",
        secure=is_https(request),
        httponly=True,
        samesite="lax",
    )


def load_person(session: Session, request: Request) -> Person | None:
    raw = request.cookies.get(cookie_name(request, SESSION_COOKIE))
    if not raw:
        return None
    row = session.get(WebSession, _sha256(raw))
    if row is None or row.revoked_at is not None or row.expires_at <= datetime.now(UTC):
        return None
    user = session.get(User, row.user_id)
    if user is None:
        return None
    person = Person(user.id, user.email, user.name, row.id_hash, row.csrf_secret, row.auth_method)
    request.state.person = person
    request.state.csrf_token = csrf_token_for(person.csrf_secret)
    return person


def require_person(session: Session, request: Request) -> Person:
    person = load_person(session, request)
    if person is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            raise WebError(401, "Signed out", "Your session ended. Sign in and try again.")
        raise SignInRequired(target)
    return person


def session_data(session: Session, person: Person) -> dict[str, Any]:
    row = session.get(WebSession, person.session_hash)
    return dict(row.data or {}) if row else {}


def set_session_data(session: Session, person: Person, data: dict[str, Any]) -> None:
    session.execute(
        update(WebSession).where(WebSession.id_hash == person.session_hash).values(data=data)
    )


def remember_challenge(session: Session, person: Person, key: str, challenge: Any) -> None:
    """Keep a WebAuthn challenge in the web session until the browser answers it."""
    data = session_data(session, person)
    data[key] = challenge
    set_session_data(session, person, data)


def take_challenge(session: Session, person: Person, key: str) -> Any:
    """The challenge kept under `key`, removed so it answers once; None if none is kept."""
    data = session_data(session, person)
    challenge = data.pop(key, None)
    set_session_data(session, person, data)
    return challenge


def revoke_user_sessions(session: Session, user_id: str, *, keep: str | None = None) -> None:
    stmt = update(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
    if keep:
        stmt = stmt.where(WebSession.id_hash != keep)
    session.execute(stmt.values(revoked_at=datetime.now(UTC)))


def active_sessions(session: Session, user_id: str) -> list[WebSession]:
    return list(
        session.scalars(
            select(WebSession)
            .where(
                WebSession.user_id == user_id,
                WebSession.revoked_at.is_(None),
                WebSession.expires_at > datetime.now(UTC),
            )
            .order_by(WebSession.created_at.desc())
        )
    )


# --- CSRF ---------------------------------------------------------------------------


def csrf_token_for(secret: str, purpose: str = "form") -> str:
    return hmac.new(bytes.fromhex(secret), purpose.encode(), hashlib.sha256).hexdigest()


def _allowed_origins(request: Request) -> set[str]:
    origins = set()
    host = request.headers.get("host")
    if host:
        origins.add(f"{request.url.scheme}://{host}".lower())
    public = urlsplit(str(request.app.state.settings.public_url))
    if public.scheme and public.netloc:
        origins.add(f"{public.scheme}://{public.netloc}".lower())
    return origins


def check_same_origin(request: Request) -> None:
    """Refuse cross-site unsafe requests by what the browser says about them."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        if fetch_site not in ("same-origin", "none"):
            raise WebError(
                403, "Request refused", "This form was sent from another site, so it was ignored."
            )
        return
    origin = request.headers.get("origin")
    if origin == "null":
        # Our pages send `Referrer-Policy: no-referrer`, under which browsers post forms
        # with `Origin: null`; and they send Sec-Fetch-* only to https/localhost origins.
        # So a wallet on plain http in a LAN sees exactly this: the synchronizer token,
        # checked next, is what decides.
        return
    if origin is None:
        referer = request.headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            origin = f"{parts.scheme}://{parts.netloc}"
    if origin is None or origin.lower() not in _allowed_origins(request):
        raise WebError(
            403, "Request refused", "This form was sent from another site, so it was ignored."
        )


def _token_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected, str(given))


def check_csrf(request: Request, person: Person, form_token: str | None = None) -> None:
    """For signed-in forms and fetches (token in the form or `X-CSRF-Token`)."""
    check_same_origin(request)
    given = form_token or request.headers.get("x-csrf-token")
    if not _token_matches(csrf_token_for(person.csrf_secret), given):
        raise WebError(
            403,
            "Request refused",
            "This form has expired or did not come from this wallet. Reload the "
            "page and try again.",
        )


# --- Pre-sign-in forms ---------------------------------------------------------------


def presession_token(request: Request, response_cookies: dict[str, str]) -> str:
    """CSRF token for forms shown before sign-in, bound to an anonymous cookie (set via
    `response_cookies` when the browser has none yet)."""
    raw = request.cookies.get(cookie_name(request, PRESESSION_COOKIE))
    if not raw or len(raw) > 100:
        raw = secrets.token_urlsafe(32)
        response_cookies[PRESESSION_COOKIE] = raw
    return _presession_hmac(request, raw)


def _presession_hmac(request: Request, raw: str) -> str:
    pepper: bytes = request.app.state.settings.pepper
    return hmac.new(pepper, b"pre-session|" + raw.encode(), hashlib.sha256).hexdigest()


def set_presession_cookies(request: Request, response: Response, cookies: dict[str, str]) -> None:
    for base, value in cookies.items():
        _set_cookie(request, response, base, value, 3600)


def check_presession_csrf(request: Request, form_token: str | None) -> None:
    check_same_origin(request)
    raw = request.cookies.get(cookie_name(request, PRESESSION_COOKIE))
    if not raw or not _token_matches(_presession_hmac(request, raw), form_token):
        raise WebError(
            403, "Request refused", "This form has expired. Reload the page and try again."
        )


def sign_value(request: Request, purpose: str, value: str, ttl_seconds: int) -> str:
    """A short-lived HMAC-signed value for cookies (e.g. a WebAuthn challenge)."""
    expires = int(datetime.now(UTC).timestamp()) + ttl_seconds
    payload = f"{purpose}|{value}|{expires}"
    mac = hmac.new(request.app.state.settings.pepper, payload.encode(), hashlib.sha256)
    return f"{value}.{expires}.{mac.hexdigest()}"


def unsign_value(request: Request, purpose: str, signed: str | None) -> str | None:
    if not signed or signed.count(".") != 2:
        return None
    value, expires, mac = signed.split(".")
    payload = f"{purpose}|{value}|{expires}"
    good = hmac.new(request.app.state.settings.pepper, payload.encode(), hashlib.sha256)
    if not hmac.compare_digest(good.hexdigest(), mac):
        return None
    if not expires.isdigit() or int(expires) < int(datetime.now(UTC).timestamp()):
        return None
    return value
