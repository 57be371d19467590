"""The background sender and the apprise channel: a failing channel is retried and never
blocks the caller; apprise URLs are kept encrypted and deliver to a real webhook."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from linkpay.wallet.crypto import CardVault, VaultError
from linkpay.wallet.notify.dispatch import Dispatcher
from linkpay.wallet.notify.vault import open_channel_url, seal_channel_url
from linkpay.wallet.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from web_helpers import create_spend_request, csrf_from, signed_in_client  # noqa: E402


def test_failing_job_is_retried_until_it_succeeds() -> None:
    dispatcher = Dispatcher(retry_delays=(0.01, 0.01, 0.01))
    attempts: list[int] = []

    def flaky() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("smtp down")

    dispatcher.submit("flaky", flaky)
    assert dispatcher.wait_idle(5)
    assert len(attempts) == 3
    assert dispatcher.sent == 1 and dispatcher.failed_attempts == 2 and dispatcher.given_up == 0
    dispatcher.stop()


def test_job_that_keeps_failing_is_given_up_and_others_still_run() -> None:
    dispatcher = Dispatcher(retry_delays=(0.01, 0.01))
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("always")

    dispatcher.submit("broken", broken)
    dispatcher.submit("fine", lambda: ran.append("fine"))
    assert dispatcher.wait_idle(5)
    assert ran == ["fine"]
    assert dispatcher.given_up == 1 and dispatcher.failed_attempts == 3
    dispatcher.stop()


def test_submit_does_not_wait_for_the_work() -> None:
    dispatcher = Dispatcher()
    release = threading.Event()
    dispatcher.submit("slow", lambda: release.wait(10))
    # submit returned while the job is still blocked: the caller was not held up.
    assert not dispatcher.wait_idle(0.05)
    release.set()
    assert dispatcher.wait_idle(5)
    dispatcher.stop()


def test_secret_is_bound_to_its_owner() -> None:
    vault = CardVault(secrets.token_bytes(32))
    blob = seal_channel_url(vault, "nch_1", "ntfys://token@ntfy.sh/topic")
    assert "token" not in blob
    assert open_channel_url(vault, "nch_1", blob) == "ntfys://token@ntfy.sh/topic"
    with pytest.raises(Exception):  # noqa: B017 - any authentication failure
        open_channel_url(vault, "nch_2", blob)


def test_channel_url_survives_card_key_rotation() -> None:
    old_key, new_key = secrets.token_bytes(32), secrets.token_bytes(32)
    url = "ntfys://token@ntfy.sh/topic"
    blob = seal_channel_url(CardVault(old_key), "nch_1", url)
    rotating = CardVault(new_key, previous_keys=[old_key])
    assert open_channel_url(rotating, "nch_1", blob) == url
    rewrapped = rotating.rewrap("notify:nch_1", blob)
    assert open_channel_url(CardVault(new_key), "nch_1", rewrapped) == url  # old key can go
    with pytest.raises(VaultError):
        open_channel_url(CardVault(new_key), "nch_1", blob)


def test_channel_urls_sealed_before_the_vault_still_open() -> None:
    """Rows written with the bare `v1:` format (AES-GCM straight under the card key)."""
    old_key, new_key = secrets.token_bytes(32), secrets.token_bytes(32)
    nonce = os.urandom(12)
    sealed = AESGCM(old_key).encrypt(nonce, b"json://hook.example/x", b"notify|nch_7")
    legacy = "v1:" + base64.b64encode(nonce + sealed).decode()
    assert open_channel_url(CardVault(old_key), "nch_7", legacy) == "json://hook.example/x"
    rotating = CardVault(new_key, previous_keys=[old_key])
    assert open_channel_url(rotating, "nch_7", legacy) == "json://hook.example/x"
    with pytest.raises(VaultError):
        open_channel_url(CardVault(old_key), "nch_8", legacy)


def test_settings_vault_accepts_previous_card_keys(tmp_path: Path) -> None:
    old_key, new_key = secrets.token_bytes(32), secrets.token_bytes(32)
    blob = seal_channel_url(CardVault(old_key), "nch_1", "json://a.example/")
    settings = Settings.from_env(
        data_dir=tmp_path,
        card_key=new_key,
        previous_card_keys=base64.b64encode(old_key).decode(),
    )
    assert open_channel_url(settings.card_vault(), "nch_1", blob) == "json://a.example/"


class Hook:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with hook.cond:
                    hook.bodies.append(json.loads(body))
                    hook.cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_apprise_channel_added_on_the_page_gets_the_approval_link(notify_wallet: Any) -> None:
    from sqlalchemy import select

    from linkpay.wallet.store.web_models import NotificationChannel

    hook = Hook()
    try:
        person = notify_wallet.create_user(f"hook-{secrets.token_hex(4)}@example.com")
        notify_wallet.add_test_card(person)
        url = f"json://127.0.0.1:{hook.port}/hook?secret-token=s3cr3t"
        client = signed_in_client(notify_wallet, person)
        try:
            page = client.get("/notifications")
            added = client.post(
                "/notifications/channels",
                data={"csrf_token": csrf_from(page.text), "url": url},
                headers={"Origin": notify_wallet.base_url},
            )
            assert added.headers["location"] == "/notifications?notice=channel"
            listing = client.get("/notifications").text
            assert "json://127.0.0.1/…" in listing and "s3cr3t" not in listing
        finally:
            client.close()
        with notify_wallet.session() as s:
            stored = s.scalars(
                select(NotificationChannel).where(NotificationChannel.user_id == person)
            ).one()
            assert "s3cr3t" not in stored.url_ciphertext

        token = notify_wallet.agent_login(person)
        spend_id = create_spend_request(notify_wallet, token.access_token)
        approval_url = f"{notify_wallet.base_url}/approve/{spend_id}"
        with hook.cond:
            assert hook.cond.wait_for(
                lambda: any(approval_url in b.get("message", "") for b in hook.bodies), 15
            )
        body = next(b for b in hook.bodies if approval_url in b.get("message", ""))
        assert body["title"] == "A purchase needs your approval"
        assert not re.search(r"\d{13,19}", json.dumps(body))
    finally:
        hook.server.shutdown()


def test_a_stuck_channel_does_not_hold_up_the_others() -> None:
    dispatcher = Dispatcher(workers=3)
    release = threading.Event()
    delivered = threading.Event()
    dispatcher.submit("stuck smtp", lambda: release.wait(10))
    dispatcher.submit("push", delivered.set)
    assert delivered.wait(5)
    release.set()
    assert dispatcher.wait_idle(5)
    dispatcher.stop()
