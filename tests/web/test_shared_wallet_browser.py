"""Shared wallet, 2 of 3 approvers, in real Chromium: each approver signs in in their
own browser, the first approval leaves the request waiting (no credential), the page
lists who approved, the second approval issues the credential; one deny ends another
request; a quorum not reached in time expires."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from web_helpers import VIEWPORTS, create_spend_request, force_expiry, signin_link
from web_policy_helpers import agent_view

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: Any) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('shared-browser-db') / 'wallet.db'}"


@pytest.fixture
def household(wallet: Any, person: str) -> dict[str, str]:
    from linkpay.wallet.policy import edit, quorum

    people = {"owner": person}
    for name in ("ann", "bob"):
        user_id = wallet.create_user(f"{name}-{secrets.token_hex(3)}@example.com", name.title())
        people[name] = user_id
        with wallet.session() as session:
            quorum.add_member(session, person, user_id, "approver")
    with wallet.session() as session:
        edit.set_rules(
            session,
            person,
            [{"id": "two", "action": "require_approval", "approvers_required": 2}],
            actor="test",
            confirmed_by="test",
        )
    return people


@pytest.fixture
def browsers(browser: Any, wallet: Any, household: dict[str, str]) -> Iterator[dict[str, Any]]:
    """One signed-in Chromium context per person."""
    contexts, pages = [], {}
    for name, user_id in household.items():
        context = browser.new_context(**VIEWPORTS["desktop"])
        page = context.new_page()
        page.goto(signin_link(wallet, user_id).replace("127.0.0.1", "localhost", 1))
        page.get_by_role("button", name=re.compile(r"^Sign in as ")).click()
        page.wait_for_url(re.compile(r"/$"))
        contexts.append(context)
        pages[name] = page
    yield pages
    for context in contexts:
        context.close()


def _open(page: Any, wallet: Any, spend_id: str) -> None:
    page.goto(f"{wallet.base_url.replace('127.0.0.1', 'localhost', 1)}/approve/{spend_id}")


def test_two_of_three_in_chromium(
    wallet: Any, household: dict[str, str], browsers: dict[str, Any], output_dir: Any
) -> None:
    token = wallet.agent_login(household["owner"]).access_token
    spend_id = create_spend_request(wallet, token)

    ann = browsers["ann"]
    _open(ann, wallet, spend_id)
    ann.get_by_role("button", name=re.compile(r"^Approve")).click()
    expect(
        ann.get_by_role("status").filter(has_text="waits for the other approvers")
    ).to_be_visible()
    expect(ann.get_by_role("heading", name="Approvers: 1 of 2 needed")).to_be_visible()
    waiting = agent_view(wallet, token, spend_id)
    assert waiting["status"] == "pending_approval" and "card" not in waiting

    bob = browsers["bob"]
    _open(bob, wallet, spend_id)
    expect(bob.get_by_text("Ann approved")).to_be_visible()
    bob.screenshot(path=str(output_dir / "shared-wallet-1-of-2.png"), full_page=True)
    bob.get_by_role("button", name=re.compile(r"^Approve")).click()
    expect(bob.get_by_role("status").filter(has_text="Approved.")).to_be_visible()
    done = agent_view(wallet, token, spend_id)
    assert done["status"] == "approved" and done["card"]["number"]

    # One deny ends it.
    second = create_spend_request(wallet, token)
    _open(browsers["owner"], wallet, second)
    browsers["owner"].get_by_role("button", name=re.compile(r"^Deny")).click()
    assert agent_view(wallet, token, second)["status"] == "denied"

    # A quorum not reached in time expires; a late approval changes nothing.
    third = create_spend_request(wallet, token)
    _open(ann, wallet, third)
    ann.get_by_role("button", name=re.compile(r"^Approve")).click()
    force_expiry(wallet, third)
    _open(bob, wallet, third)
    assert bob.get_by_role("button", name=re.compile(r"^Approve")).count() == 0
    assert agent_view(wallet, token, third)["status"] == "expired"
