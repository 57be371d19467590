"""Passkeys (WebAuthn, `webauthn` = py_webauthn 3.x): enrol while signed in, then sign in
with one. The relying party is the host the person's browser is on; challenges are
generated here and remembered in the web session (enrolment) or in a short-lived signed
cookie (sign-in, before any session exists). `webauthn` is imported where it is used:
at module level it cost every wallet start ~60 ms.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from linkpay.wallet.ids import new_id
from linkpay.wallet.settings import Settings
from linkpay.wallet.store.web_models import Passkey

RP_NAME = "linkpay wallet"


class PasskeyError(Exception):
    """The browser's answer did not verify; the message is safe to show."""


def browser_origin(request: Request, settings: Settings) -> str:
    """The origin the browser is on (public_url's scheme when behind a TLS proxy)."""
    host = request.headers.get("host", request.url.netloc)
    public = urlsplit(settings.public_url)
    if public.netloc and public.netloc.lower() == host.lower():
        return f"{public.scheme}://{public.netloc}"
    return f"{request.url.scheme}://{host}"


def relying_party(origin: str) -> tuple[str, str]:
    """(rp_id, origin) for the origin the browser is on."""
    host = urlsplit(origin).hostname or "localhost"
    return host, origin.rstrip("/")


def registration_options(
    session: Session, *, user_id: str, user_name: str, origin: str
) -> tuple[dict[str, Any], str]:
    """Options for `navigator.credentials.create` and the challenge to remember."""
    import webauthn
    from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    rp_id, _ = relying_party(origin)
    existing = session.scalars(select(Passkey.credential_id).where(Passkey.user_id == user_id))
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name=RP_NAME,
        user_name=user_name,
        user_id=user_id.encode(),
        user_display_name=user_name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(cid)) for cid in existing
        ],
    )
    return json.loads(webauthn.options_to_json(options)), bytes_to_base64url(options.challenge)


def register(
    session: Session,
    *,
    user_id: str,
    credential: dict[str, Any],
    challenge: str,
    origin: str,
    name: str | None = None,
) -> Passkey:
    import webauthn
    from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
    from webauthn.helpers.exceptions import WebAuthnException

    rp_id, expected_origin = relying_party(origin)
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=expected_origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError("The passkey could not be verified.") from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if session.scalars(select(Passkey).where(Passkey.credential_id == credential_id)).first():
        raise PasskeyError("This passkey is already enrolled.")
    passkey = Passkey(
        id=new_id("pk"),
        user_id=user_id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=(name or "Passkey")[:100],
    )
    session.add(passkey)
    return passkey


def authentication_options(
    origin: str, *, session: Session | None = None, user_id: str | None = None
) -> tuple[dict[str, Any], str]:
    """Options for `navigator.credentials.get`: discoverable (any enrolled passkey) at
    sign-in; limited to `user_id`'s passkeys for a step-up of a signed-in person."""
    import webauthn
    from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

    rp_id, _ = relying_party(origin)
    allowed = None
    if session is not None and user_id is not None:
        allowed = [
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(cid))
            for cid in session.scalars(
                select(Passkey.credential_id).where(Passkey.user_id == user_id)
            )
        ]
    options = webauthn.generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=allowed,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return json.loads(webauthn.options_to_json(options)), bytes_to_base64url(options.challenge)


def authenticate(
    session: Session, *, credential: dict[str, Any], challenge: str, origin: str
) -> str:
    """Verify an assertion; returns the user id. Updates the sign count (a counter that
    goes backwards means a cloned authenticator, refused by the library)."""
    import webauthn
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.exceptions import WebAuthnException

    rp_id, expected_origin = relying_party(origin)
    raw_id = credential.get("id") if isinstance(credential, dict) else None
    if not isinstance(raw_id, str) or len(raw_id) > 1400:
        raise PasskeyError("Unknown passkey.")
    passkey = session.scalars(select(Passkey).where(Passkey.credential_id == raw_id)).first()
    if passkey is None:
        raise PasskeyError("Unknown passkey.")
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=expected_origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError("The passkey could not be verified.") from exc
    session.execute(
        update(Passkey)
        .where(Passkey.id == passkey.id)
        .values(sign_count=verified.new_sign_count, last_used_at=datetime.now(UTC))
    )
    return passkey.user_id


def list_passkeys(session: Session, user_id: str) -> list[Passkey]:
    return list(
        session.scalars(
            select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)
        )
    )


def remove_passkey(session: Session, user_id: str, passkey_id: str) -> bool:
    passkey = session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user_id:
        return False
    session.delete(passkey)
    return True
