"""Web push to a real HTTP endpoint on loopback: the browser half is played by the test
(its own P-256 key pair and auth secret, registered through the wallet's subscribe
endpoint); the test decrypts what the wallet sent (RFC 8291, http_ece) and finds the
approval URL. A 410 from the push service removes the subscription."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Any

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from web_helpers import create_spend_request, signed_in_client  # noqa: E402


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeBrowser:
    """The keys a browser's PushManager would create for one subscription."""

    def __init__(self, endpoint: str) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = os.urandom(16)
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.subscription = {
            "endpoint": endpoint,
            "keys": {"p256dh": _b64url(public), "auth": _b64url(self.auth_secret)},
        }

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return json.loads(plain)


def _subscribe(wallet: Any, person: str, browser: FakeBrowser) -> str:
    """Register through the same endpoint app.js calls; returns the page's VAPID key."""
    client = signed_in_client(wallet, person)
    try:
        page = client.get("/notifications")
        csrf = re.search(r'data-csrf="([^"]+)"', page.text).group(1)
        vapid_key = re.search(r'data-vapid-key="([^"]+)"', page.text).group(1)
        answer = client.post(
            "/notifications/push/subscribe",
            json=browser.subscription,
            headers={"X-CSRF-Token": csrf, "Origin": wallet.base_url},
        )
        assert answer.status_code == 200, answer.text
        refused = client.post(
            "/notifications/push/subscribe",
            json=browser.subscription,
            headers={"Origin": wallet.base_url},
        )
        assert refused.status_code == 403  # no CSRF token
    finally:
        client.close()
    return vapid_key


def _verify_vapid(headers: dict[str, str], vapid_key: str, audience: str) -> None:
    """The push service's check: a JWT signed by the wallet's VAPID key for its origin."""
    auth = headers["authorization"]
    match = re.match(r"vapid t=([^,]+),\s*k=(\S+)", auth)
    assert match, auth
    token, key = match.groups()
    assert key == vapid_key
    head, claims, signature = token.split(".")
    assert json.loads(_unb64url(claims))["aud"] == audience
    raw_sig = _unb64url(signature)
    der = encode_dss_signature(
        int.from_bytes(raw_sig[:32], "big"), int.from_bytes(raw_sig[32:], "big")
    )
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64url(vapid_key))
    public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))


def test_push_message_decrypts_to_the_approval_url(notify_wallet: Any, push_endpoint: Any) -> None:
    person = notify_wallet.create_user(f"push-{secrets.token_hex(4)}@example.com")
    notify_wallet.add_test_card(person)
    path = f"/push/{secrets.token_hex(8)}"
    browser = FakeBrowser(push_endpoint.base_url + path)
    vapid_key = _subscribe(notify_wallet, person, browser)
    token = notify_wallet.agent_login(person)
    spend_id = create_spend_request(notify_wallet, token.access_token)

    approval_url = f"{notify_wallet.base_url}/approve/{spend_id}"
    # (A single-person wallet also announces the agent's device login: skip that one.)
    _path, headers, body = push_endpoint.wait_until(
        lambda r: r[0] == path and browser.decrypt(r[2])["url"] == approval_url
    )
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["ttl"] == "600"
    assert b"Volt" not in body  # encrypted on the wire
    _verify_vapid(headers, vapid_key, push_endpoint.base_url)
    message = browser.decrypt(body)
    assert message["url"] == approval_url
    assert message["title"] == "A purchase needs your approval"
    assert "Volt Supply" in message["body"]
    assert not re.search(r"\d{13,19}", json.dumps(message))
    key_file = Path(notify_wallet.settings.data_dir) / "vapid_private.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_gone_subscription_is_removed(notify_wallet: Any, push_endpoint: Any) -> None:
    from sqlalchemy import select

    from linkpay.wallet.store.web_models import PushSubscription

    person = notify_wallet.create_user(f"gone-{secrets.token_hex(4)}@example.com")
    path = f"/push/{secrets.token_hex(8)}"
    _subscribe(notify_wallet, person, FakeBrowser(push_endpoint.base_url + path))
    push_endpoint.status = 410
    try:
        notify_wallet.app.state.notifier.spend_request_needs_approval(
            user_id=person,
            spend_request_id="lsrq_x",
            approval_url="http://x/approve/lsrq_x",
            summary="test",
        )
        push_endpoint.wait_for(path)
        assert notify_wallet.app.state.notifier.wait_idle(10)
    finally:
        push_endpoint.status = 201
    with notify_wallet.session() as s:
        left = s.scalars(select(PushSubscription).where(PushSubscription.user_id == person))
        assert list(left) == []
