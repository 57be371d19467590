"""Passkey step-up in real Chromium with a CDP virtual authenticator: once a passkey is
enrolled, loosening a rule (on /rules) or raising the per-request limit (on /limits)
asks for the passkey and saves right after it; tightening asks nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from web_helpers import VIEWPORTS, signin_link
from web_policy_helpers import forget_step_up, stored_rules

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: Any) -> str:
    """Browser tests run on SQLite; the HTTP step-up tests cover both databases."""
    return f"sqlite:///{tmp_path_factory.mktemp('stepup-browser-db') / 'wallet.db'}"


@pytest.fixture
def page(browser: Any, wallet: Any, person: str) -> Iterator[Any]:
    context = browser.new_context(**VIEWPORTS["desktop"])
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    tab.goto(signin_link(wallet, person).replace("127.0.0.1", "localhost", 1))
    tab.get_by_role("button", name=re.compile(r"^Sign in as ")).click()
    tab.wait_for_url(re.compile(r"/$"))
    yield tab
    context.close()
    assert not problems, problems


def _virtual_authenticator(page: Any) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def _sign_count(cdp: Any, authenticator_id: str) -> int:
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1
    return int(credentials["credentials"][0]["signCount"])


def _last_change(wallet: Any, person: str) -> Any:
    from sqlalchemy import select

    from linkpay.wallet.store.policy_models import PolicyChange

    with wallet.session() as session:
        return session.scalars(
            select(PolicyChange)
            .where(PolicyChange.user_id == person)
            .order_by(PolicyChange.id.desc())
            .limit(1)
        ).one()


def _per_request(wallet: Any, person: str) -> int:
    from linkpay.wallet.store.models import User

    with wallet.session() as session:
        user = session.get(User, person)
        assert user is not None
        return int(user.max_amount_per_request)


def test_loosening_asks_for_the_passkey_tightening_does_not(
    wallet: Any, person: str, page: Any, output_dir: Any
) -> None:
    base = wallet.base_url.replace("127.0.0.1", "localhost", 1)
    cdp, authenticator = _virtual_authenticator(page)
    page.goto(f"{base}/security")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url(re.compile(r"notice=passkey"))
    enrolled = _sign_count(cdp, authenticator)

    # Signed in minutes ago, but with a link: with a passkey enrolled only it counts.
    looser = [{"id": "small", "action": "auto_approve", "when": {"amount_at_most": 2500}}]
    page.goto(f"{base}/rules")
    page.get_by_text("Advanced: edit the rules as JSON").click()
    page.get_by_label(re.compile(r"^Rules \(JSON")).fill(json.dumps(looser))
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    assert page.get_by_label("Your password").count() == 0
    assert stored_rules(wallet, person) == []
    page.screenshot(path=str(output_dir / "rules-passkey-step-up-desktop.png"), full_page=True)
    page.get_by_role("button", name="Confirm with your passkey").click()
    page.wait_for_url(re.compile(r"/rules\?notice=confirmed"))
    expect(page.get_by_role("status").filter(has_text="Confirmed and saved.")).to_be_visible()
    assert stored_rules(wallet, person) == looser
    assert _sign_count(cdp, authenticator) == enrolled + 1  # the authenticator signed
    change = _last_change(wallet, person)
    assert (change.what, change.loosening, change.confirmed_by) == ("rules", True, "passkey")

    # Tightening (the auto-approve rule goes, a deny rule comes) never asks.
    forget_step_up(wallet, person)
    tighter = [{"id": "casino", "action": "deny", "when": {"merchants": ["*.casino"]}}]
    page.get_by_text("Advanced: edit the rules as JSON").click()
    page.get_by_label(re.compile(r"^Rules \(JSON")).fill(json.dumps(tighter))
    page.get_by_role("button", name="Save rules").click()
    page.wait_for_url(re.compile(r"/rules\?notice=saved"))
    assert stored_rules(wallet, person) == tighter
    assert _sign_count(cdp, authenticator) == enrolled + 1

    # The older limits page: lowering saves at once, raising asks for the passkey.
    page.goto(f"{base}/limits")
    page.get_by_label(re.compile(r"^Most one purchase")).fill("100")
    page.get_by_role("button", name="Save limit").click()
    page.wait_for_url(re.compile(r"/limits\?notice=limit"))
    assert _per_request(wallet, person) == 10_000
    page.get_by_label(re.compile(r"^Most one purchase")).fill("300")
    page.get_by_role("button", name="Save limit").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    assert _per_request(wallet, person) == 10_000
    page.get_by_role("button", name="Confirm with your passkey").click()
    page.wait_for_url(re.compile(r"/limits\?notice=limit"))
    assert _per_request(wallet, person) == 30_000
    assert _sign_count(cdp, authenticator) == enrolled + 2
    assert _last_change(wallet, person).confirmed_by == "passkey"
