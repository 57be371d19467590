"""`auth upgrade`, and the person-facing TTY flow of `spend-request create
--request-approval` (approval URL + QR on stderr, wait, then the decided result)."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import create_args, point_at, wait_until


def test_auth_upgrade_widens_scope(
    wallet: Any, person: str, cli: Any, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from linkpay.client.tokens import Tokens, TokenStore

    point_at(wallet, monkeypatch, cli_env)
    narrow = wallet.agent_login(person, scope="userinfo:read")
    TokenStore(Path(cli_env["LINK_AUTH_FILE"])).save(Tokens.from_token_response(narrow))

    code = cli("auth", "upgrade", "--format", "json").json()
    assert code["_next"]["command"] == "link-cli auth status --interval 5 --max-attempts 60"
    assert "warning" not in code
    # the old session keeps working until the new one is approved
    assert cli("user-info", "retrieve", "--format", "json").code == 0
    wallet.approve_device(code["phrase"], person)
    done = cli("auth", "upgrade", "--interval", "1", "--format", "jsonl")
    assert done.code == 0, done
    result = done.lines()[-1]
    assert result["authenticated"] is True and result["message"] == "Access widened."
    assert set(result["scope"].split()) == {"userinfo:read", "payment_methods.agentic"}
    with wallet.http() as client:  # the narrow session's refresh token was revoked
        refreshed = client.post(
            "/device/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": narrow.refresh_token,
                "client_id": "link-cli",
            },
        )
        assert refreshed.status_code == 400
    assert cli("payment-methods", "list", "--format", "json").code == 0


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_tty_create_shows_link_waits_and_reports_denial(
    wallet: Any, logged_in: str, cli_env: dict[str, str]
) -> None:
    from linkpay.cli.app import run

    out, err = _Tty(), _Tty()
    codes: list[int] = []
    worker = threading.Thread(
        target=lambda: codes.append(
            run(create_args("--request-approval", amount="2600"), stdout=out, stderr=err)
        )
    )
    worker.start()

    def waiting_ids() -> list[str]:
        watcher = getattr(wallet.app.state, "spend_request_watcher", None)
        return list(watcher._waiters) if watcher else []

    try:
        wait_until(
            lambda: "/approve/lsrq_" in err.getvalue() and bool(waiting_ids()),
            what="the approval link and the wait",
        )
        spend_id = err.getvalue().split("/approve/")[1].split()[0]
        assert spend_id in waiting_ids()
        wallet.deny(spend_id, logged_in)
    finally:
        worker.join(timeout=60)
    assert codes == [0]
    shown = out.getvalue()
    assert "denied" in shown and "DENIED by the person" in shown and "APPROVED" not in shown
    assert len(err.getvalue().splitlines()) > 10  # QR code rows on stderr
    assert not shown.lstrip().startswith("{")  # a readable table, not JSON


def test_tty_login_shows_qr_and_waits_for_the_person(
    wallet: Any, person: str, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from linkpay.cli.app import run

    point_at(wallet, monkeypatch, cli_env)
    out, err = _Tty(), _Tty()
    codes: list[int] = []
    worker = threading.Thread(
        target=lambda: codes.append(run(["auth", "login"], stdout=out, stderr=err))
    )
    worker.start()
    try:
        marker = "Check that the wallet shows the phrase: "
        wait_until(lambda: marker in err.getvalue(), what="the login phrase")
        phrase = err.getvalue().split(marker)[1].split()[0]
        assert "/device?code=" in err.getvalue() and len(err.getvalue().splitlines()) > 10
        wallet.approve_device(phrase, person)
    finally:
        worker.join(timeout=60)
    assert codes == [0]
    assert "authenticated" in out.getvalue() and "Logged in." in out.getvalue()
