"""The one adapter between linkpay and pympp for the MPP wire format.

Everything that encodes or decodes `WWW-Authenticate: Payment`, `Authorization:
Payment` and `Payment-Receipt` goes through here, so a pympp upgrade touches one file.

What pympp gives us: the `Challenge`/`ChallengeEcho`/`Credential`/`Receipt` types, the
single-challenge parser, the HMAC challenge id, JCS encoding, body digests and the
problem types. What we add (pympp keeps these private or lacks them): splitting a header
value holding several challenges and other schemes (quote and escape aware, strict about
unterminated quotes and stray text), expiry parsing, and Payment credential extraction
from a multi-scheme `Authorization`. Stripe request rules live in `charge.py` and x402
detection in `x402.py`; neither touches pympp. pympp's private helpers are reached only
through `_pympp.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import mpp
from linkpay.mpp._pympp import (  # re-exported: callers use pympp only through here
    b64url_json_object,
    compute_body_digest,
    verify_body_digest,
)
from linkpay.text import sanitize_deep
from mpp import (
    Challenge,
    ChallengeEcho,
    Credential,
    Receipt,
    canonical_b64url,
    generate_challenge_id,
)
from mpp import errors as mpp_errors

__all__ = [
    "Challenge",
    "ChallengeEcho",
    "Credential",
    "Receipt",
    "ParsedChallenge",
    "canonical_b64url",
    "compute_body_digest",
    "verify_body_digest",
    "generate_challenge_id",
    "parse_challenges",
    "parse_expires",
    "build_credential",
    "parse_credential",
    "extract_payment_credentials",
    "parse_receipt",
    "receipt_to_dict",
    "parse_problem",
    "PROBLEM_BASE",
]

PROBLEM_BASE = "https://paymentauth.org/problems/"
MAX_REQUEST_B64 = 16 * 1024

_PARAM_RE = re.compile(
    r"^([!#$%&\'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*"
    r'(?:"((?:[^"\\]|\\.)*)"|([!#$%&\'*+.^_`|~0-9A-Za-z\-/:]+=*))$',
    re.DOTALL,
)
_SCHEME_START_RE = re.compile(r"^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:[ \t]+(.*))?$", re.DOTALL)
_INTENT_RE = re.compile(r"^[A-Za-z0-9-]+$")
_RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$"
)


# --------------------------------------------------------------------------- challenges


@dataclass(frozen=True)
class ParsedChallenge:
    """One `Payment` challenge from a header value: parsed, or the reason it was not."""

    index: int
    raw: str
    challenge: Challenge | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.challenge is not None


def _split_items(value: str) -> list[str]:
    """Split a header value on commas outside quoted strings; unterminated quote = error."""
    items: list[str] = []
    current: list[str] = []
    in_quote = False
    escaped = False
    for ch in value:
        if in_quote:
            current.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_quote = False
            continue
        if ch == '"':
            in_quote = True
            current.append(ch)
        elif ch == ",":
            items.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if in_quote:
        raise ValueError("unterminated quoted string")
    items.append("".join(current).strip())
    return items


def _group_challenges(value: str) -> list[tuple[str, list[str], str | None]]:
    """Group comma-separated items into (scheme, params, error) by scheme boundaries."""
    try:
        items = _split_items(value)
    except ValueError as exc:
        # Attribute the broken tail to the challenge it starts in.
        groups = _group_items(_split_items_lenient(value))
        if groups:
            scheme, params, _err = groups[-1]
            groups[-1] = (scheme, params, str(exc))
        else:
            groups = [("", [], str(exc))]
        return groups
    return _group_items(items)


def _split_items_lenient(value: str) -> list[str]:
    """Like `_split_items` but tolerate an unterminated quote (used only for errors)."""
    try:
        return _split_items(value)
    except ValueError:
        return _split_items(value + '"')


def _group_items(items: list[str]) -> list[tuple[str, list[str], str | None]]:
    groups: list[tuple[str, list[str], str | None]] = []
    for item in items:
        if not item:
            continue  # empty list elements are allowed by RFC 9110 #rule
        param = _PARAM_RE.match(item)
        start = _SCHEME_START_RE.match(item)
        if param is None and start is not None and "=" not in start.group(1):
            rest = (start.group(2) or "").strip()
            groups.append((start.group(1), [rest] if rest else [], None))
            continue
        if not groups:
            groups.append(("", [], f"unexpected text before any scheme: {item[:40]!r}"))
            continue
        groups[-1][1].append(item)
    return groups


def _parse_one(scheme: str, params: list[str]) -> Challenge:
    """Validate auth-params strictly, then let pympp build the Challenge."""
    seen: set[str] = set()
    for item in params:
        match = _PARAM_RE.match(item)
        if match is None:
            raise ValueError(f"malformed parameter: {item[:60]!r}")
        name = match.group(1).lower()
        if name in seen:
            raise ValueError(f"duplicate parameter: {name}")
        seen.add(name)
    try:
        challenge = Challenge.from_www_authenticate("Payment " + ", ".join(params))
    except mpp.ParseError as exc:
        raise ValueError(str(exc)) from None
    if not _INTENT_RE.fullmatch(challenge.intent):
        raise ValueError(f"invalid intent: {challenge.intent!r}")
    if len(challenge.request_b64) > MAX_REQUEST_B64:
        raise ValueError("request exceeds 16 KiB")
    if challenge.opaque is not None and not all(
        isinstance(k, str) and isinstance(v, str) for k, v in challenge.opaque.items()
    ):
        raise ValueError("opaque must be a flat object of strings")
    if challenge.expires is not None:
        parse_expires(challenge.expires)
    return challenge


def parse_challenges(values: str | Iterable[str]) -> list[ParsedChallenge]:
    """Every `Payment` challenge in one or several WWW-Authenticate values, in order.

    Other schemes (Bearer, Basic, …) are skipped. A broken Payment challenge is kept as
    a `ParsedChallenge` with `error`, so callers can still use the valid ones and explain
    the broken ones.
    """
    if isinstance(values, str):
        values = [values]
    out: list[ParsedChallenge] = []
    for value in values:
        for scheme, params, error in _group_challenges(value):
            if scheme.lower() != "payment" and not (scheme == "" and error):
                continue
            raw = f"{scheme} {', '.join(params)}".strip()
            if error is not None:
                out.append(ParsedChallenge(len(out), raw, error=error))
                continue
            try:
                out.append(ParsedChallenge(len(out), raw, challenge=_parse_one(scheme, params)))
            except ValueError as exc:
                out.append(ParsedChallenge(len(out), raw, error=str(exc)))
    return out


def parse_expires(value: str) -> datetime:
    """RFC 3339 timestamp with a timezone; anything else is refused."""
    if not _RFC3339_RE.match(value):
        raise ValueError(f"expires is not an RFC 3339 timestamp with timezone: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"expires is not a valid timestamp: {value!r}") from None
    return parsed.astimezone(UTC)


def format_expires(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- credentials


def build_credential(challenge: Challenge, spt: str, *, source: str | None = None) -> str:
    """`Authorization` value: `Payment <b64url JSON {challenge echo, payload: {spt}}>`;
    for a `session` challenge the payload opens the session with the token,
    `{action: "open", grantedToken}` (Stripe's session intent).

    The echo carries the request string exactly as received (not re-encoded), and the
    payload echoes the request's `externalId` because pympp/mppx merchants require it.
    """
    payload: dict[str, Any] = (
        {"action": "open", "grantedToken": spt} if challenge.intent == "session" else {"spt": spt}
    )
    external_id = challenge.request.get("externalId")
    if isinstance(external_id, str):
        payload["externalId"] = external_id
    echo = challenge.to_echo()
    return Credential(challenge=echo, payload=payload, source=source).to_authorization()


def parse_credential(value: str) -> Credential:
    """Parse `Payment <b64url>`; raises `mpp.ParseError` on any malformation."""
    return Credential.from_authorization(value)


_PAYMENT_CRED_RE = re.compile(r"(?:^|,)\s*payment[ \t]+([A-Za-z0-9\-_+/=.~]*)", re.IGNORECASE)


def extract_payment_credentials(values: Iterable[str]) -> list[str]:
    """Every `Payment <token>` credential in one or more Authorization values."""
    found: list[str] = []
    for value in values:
        for match in _PAYMENT_CRED_RE.finditer(value):
            found.append(f"Payment {match.group(1)}")
    return found


def echo_to_challenge(echo: ChallengeEcho) -> Challenge:
    """Rebuild the challenge a credential echoes (to recompute its HMAC id)."""
    request = b64url_json_object(echo.request)
    opaque = b64url_json_object(echo.opaque) if echo.opaque else None
    return Challenge(
        id=echo.id,
        method=echo.method,
        intent=echo.intent,
        request=request,
        realm=echo.realm,
        request_b64=echo.request,
        digest=echo.digest,
        expires=echo.expires,
        description=echo.description,
        opaque=opaque,
        header=echo.header,
    )


# --------------------------------------------------------------------------- receipts


def parse_receipt(value: str) -> Receipt:
    """Parse a `Payment-Receipt` header; raises `mpp.ParseError`."""
    return Receipt.from_payment_receipt(value)


def receipt_to_dict(receipt: Receipt) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": receipt.status,
        "method": receipt.method,
        "reference": receipt.reference,
        "timestamp": format_expires(receipt.timestamp)
        if receipt.timestamp.tzinfo
        else receipt.timestamp.isoformat(),
    }
    if receipt.external_id:
        out["externalId"] = receipt.external_id
    for key, value in (receipt.extensions or {}).items():
        out.setdefault(key, value)
    return out


def success_receipt(reference: str, *, method: str = "stripe", **extensions: Any) -> str:
    """A `Payment-Receipt` header value for a settled payment."""
    external_id = extensions.pop("externalId", None)
    receipt = Receipt(
        status="success",
        timestamp=datetime.now(UTC),
        reference=reference,
        method=method,
        external_id=external_id,
        extensions=extensions or None,
    )
    return receipt.to_payment_receipt()


# --------------------------------------------------------------------------- problems


PROBLEMS: dict[str, type[mpp_errors.PaymentError]] = {
    "payment-required": mpp_errors.PaymentRequiredError,
    "malformed-credential": mpp_errors.MalformedCredentialError,
    "invalid-challenge": mpp_errors.InvalidChallengeError,
    "payment-expired": mpp_errors.PaymentExpiredError,
    "verification-failed": mpp_errors.VerificationFailedError,
    "invalid-payload": mpp_errors.InvalidPayloadError,
    "payment-action-required": mpp_errors.PaymentActionRequiredError,
    "method-unsupported": mpp_errors.PaymentMethodUnsupportedError,
    "bad-request": mpp_errors.BadRequestError,
    "internal-payment-error": mpp_errors.InternalPaymentError,
}


def problem(
    slug: str, detail: str, *, status: int | None = None, challenge_id: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem body with the spec's type URI and pympp's title/status."""
    cls = PROBLEMS[slug]
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": cls.title,
        "status": status if status is not None else cls.status,
        "detail": detail,
    }
    if challenge_id is not None:
        body["challengeId"] = challenge_id
    return body


def parse_problem(body: bytes | str | None, content_type: str | None) -> dict[str, Any] | None:
    """An RFC 9457 problem from a response body, or None (sanitized, slug added)."""
    if not body:
        return None
    ctype = (content_type or "").lower()
    if "json" not in ctype:
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return None
    out = sanitize_deep(data)
    if out["type"].startswith(PROBLEM_BASE):
        out["slug"] = out["type"][len(PROBLEM_BASE) :]
    return out


def payload_token(payload: Any, intent: str) -> str | None:
    """The shared payment token a credential's payload carries for `intent`."""
    if not isinstance(payload, dict):
        return None
    if intent == "session":
        token = payload.get("grantedToken") if payload.get("action") == "open" else None
    else:
        token = payload.get("spt")
    return token if isinstance(token, str) and token else None
