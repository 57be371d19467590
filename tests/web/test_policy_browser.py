"""The rules and spending pages in real Chromium, desktop and phone: a loosening from
a session that isn't fresh asks for the password before it is saved, tightening just
saves; the preview and the SVG charts render. Screenshots land in test-output/."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from web_helpers import VIEWPORTS, create_spend_request, signin_link
from web_policy_helpers import age_sessions, forget_step_up, stored_rules

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: Any) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('policy-browser-db') / 'wallet.db'}"


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def page(browser: Any, wallet: Any, person: str, viewport: str) -> Iterator[Any]:
    from linkpay.wallet.web.signin import set_password

    with wallet.session() as session:
        set_password(session, person, PASSWORD)
    context = browser.new_context(**VIEWPORTS[viewport])
    tab = context.new_page()
    tab.goto(signin_link(wallet, person).replace("127.0.0.1", "localhost", 1))
    tab.get_by_role("button", name=re.compile(r"^Sign in as ")).click()
    tab.wait_for_url(re.compile(r"/$"))
    yield tab
    context.close()


def test_rules_step_up_preview_and_spending(
    wallet: Any, person: str, page: Any, viewport: str, output_dir: Any
) -> None:
    from linkpay.wallet.policy import edit

    token = wallet.agent_login(person, connection_label="Shopping agent").access_token
    with wallet.session() as session:
        edit.set_rules(
            session,
            person,
            [
                {
                    "id": "small",
                    "action": "auto_approve",
                    "when": {"amount_at_most": 2000, "count": {"max": 3, "period": "day"}},
                }
            ],
            actor="test",
            confirmed_by="test",
        )
        edit.set_budgets(
            session,
            person,
            [{"id": "daily", "period": "day", "amount": 10000}],
            actor="test",
            confirmed_by="test",
        )
    for amount in (1200, 1800, 2599, 900):
        create_spend_request(wallet, token, amount=amount, totals=None, line_items=None)
    base = wallet.base_url.replace("127.0.0.1", "localhost", 1)

    page.goto(f"{base}/rules")
    expect(
        page.get_by_text("Purchases up to $20 are approved automatically, at most 3 a day")
    ).to_be_visible()
    page.screenshot(path=str(output_dir / f"rules-{viewport}.png"), full_page=True)

    looser = [{"id": "all-small", "action": "auto_approve", "when": {"amount_at_most": 5000}}]
    page.get_by_text("Advanced: edit the rules as JSON").click()
    page.get_by_label(re.compile(r"^Rules \(JSON")).fill(json.dumps(looser))
    page.get_by_role("button", name="Preview the last 30 days").click()
    summary = page.locator("#preview-summary")
    assert "would have approved 4 automatically" in summary.inner_text()
    summary.scroll_into_view_if_needed()
    # The preview table scrolls inside its own box instead of running past the card.
    card = "document.querySelector('table.preview').closest('section')"
    assert page.evaluate(f"{card}.scrollWidth <= {card}.clientWidth")
    page.screenshot(path=str(output_dir / f"rules-check-preview-{viewport}.png"), full_page=True)

    # The sign-in is no longer fresh: saving the looser rules asks for the password.
    age_sessions(wallet, person)
    page.get_by_label(re.compile(r"^Rules \(JSON")).fill(json.dumps(looser))
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    assert stored_rules(wallet, person)[0]["id"] == "small"
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm and save").click()
    expect(page.get_by_role("status").filter(has_text="Confirmed and saved.")).to_be_visible()
    assert stored_rules(wallet, person)[0]["id"] == "all-small"

    # Tightening from a stale session: saved without asking.
    age_sessions(wallet, person, minutes=60)
    forget_step_up(wallet, person)
    tighter = [{"id": "casino", "action": "deny", "when": {"merchants": ["*.casino"]}}]
    page.get_by_text("Advanced: edit the rules as JSON").click()
    page.get_by_label(re.compile(r"^Rules \(JSON")).fill(json.dumps(tighter))
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    assert stored_rules(wallet, person) == tighter

    page.goto(f"{base}/spending")
    expect(page.get_by_role("heading", name="Spending")).to_be_visible()
    assert page.locator("svg.chart").count() >= 4
    page.screenshot(path=str(output_dir / f"spending-{viewport}.png"), full_page=True)


def test_plain_rule_form(
    wallet: Any, person: str, page: Any, viewport: str, output_dir: Any
) -> None:
    """The plain form in Chromium: a rule from the common fields, said in plain words,
    stored as the same JSON the advanced editor shows."""
    wallet.agent_login(person, connection_label="Grocery agent")
    base = wallet.base_url.replace("127.0.0.1", "localhost", 1)
    page.goto(f"{base}/rules")
    action = page.get_by_label("What happens to matching purchases")
    action.select_option(label="Approve automatically")
    page.get_by_label("At these merchants (optional)").fill("*.grocer.example")
    page.get_by_label("Up to this amount (USD, optional)").fill("40")
    page.get_by_label("At most this many a day (optional)").fill("2")
    page.get_by_label("From this agent").select_option(label="Grocery agent")
    page.screenshot(path=str(output_dir / f"rules-form-{viewport}.png"), full_page=True)
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    words = (
        "Purchases up to $40 at any site under grocer.example from Grocery agent are "
        "approved automatically, at most 2 a day"
    )
    expect(page.get_by_text(words)).to_be_visible()
    [stored] = stored_rules(wallet, person)
    assert stored["action"] == "auto_approve" and stored["when"]["amount_at_most"] == 4000
    page.get_by_text("Advanced: edit the rules as JSON").click()
    shown = json.loads(page.get_by_label(re.compile(r"^Rules \(JSON")).input_value())
    assert shown == [stored]
