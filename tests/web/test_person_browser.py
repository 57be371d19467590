"""The person's side in real Chromium, desktop and phone: the agent named on the
approval page, the home list and activity; signing in again with `link-wallet
signin-link` after the first link was used; shipping address CRUD; card remove and
set-default; receipts; the HTML 404. Screenshots land in test-output/."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from web_helpers import VIEWPORTS, create_spend_request, signin_link

from linkpay.wallet.admin import main as link_wallet

pytestmark = pytest.mark.browser
AGENT = "Claude Code on vm"


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: Any) -> str:
    """Browser tests run on SQLite only; the HTTP and CLI tests cover both databases."""
    return f"sqlite:///{tmp_path_factory.mktemp('person-browser-db') / 'wallet.db'}"


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def base(wallet: Any) -> str:
    return wallet.base_url.replace("127.0.0.1", "localhost", 1)


def open_page(browser: Any, viewport: str) -> tuple[Any, Any]:
    context = browser.new_context(**VIEWPORTS[viewport])
    return context, context.new_page()


def sign_in(page: Any, url: str) -> None:
    page.goto(url.replace("127.0.0.1", "localhost", 1))
    page.get_by_role("button", name=re.compile(r"^Sign in as ")).click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Waiting for you")).to_be_visible()


@pytest.fixture
def page(browser: Any, wallet: Any, person: str, viewport: str) -> Iterator[Any]:
    context, opened = open_page(browser, viewport)
    sign_in(opened, signin_link(wallet, person))
    yield opened
    context.close()


def shot(page: Any, output_dir: Path, name: str, viewport: str) -> None:
    page.screenshot(path=str(output_dir / f"{name}-{viewport}.png"), full_page=True)


def test_agent_is_named_on_approval_home_and_activity(
    wallet: Any, person: str, page: Any, viewport: str, output_dir: Path
) -> None:
    token = wallet.agent_login(person, connection_label=AGENT)
    spend_id = create_spend_request(wallet, token.access_token)
    page.goto(f"{base(wallet)}/")
    assert AGENT in page.locator("[data-agent]").first.inner_text()
    assert "1 asked" in page.locator(".request").first.inner_text()
    shot(page, output_dir, "home-agent", viewport)
    page.goto(f"{base(wallet)}/approve/{spend_id}")
    asked_by = page.locator("[data-agent]").inner_text()
    assert AGENT in asked_by and "1 purchase asked for" in asked_by and "connected" in asked_by
    assert page.title().startswith("Approve a purchase")
    shot(page, output_dir, "approve-agent", viewport)
    page.get_by_label("Reason for denying").fill("Wrong charger model")
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("status").filter(has_text="Denied. The agent")).to_be_visible()
    assert page.title().startswith("Purchase request")  # finished: no longer "Approve"
    page.goto(f"{base(wallet)}/activity")
    denied = page.locator("[data-type='spend_request.denied']").first
    assert denied.get_attribute("data-tone") == "denied"
    asked = page.locator("[data-type='spend_request.approval_requested']").first
    assert asked.locator("[data-who]").inner_text() == AGENT
    assert page.locator("[data-type='device.approved']").first.inner_text().count(AGENT) == 1
    shot(page, output_dir, "activity", viewport)


def test_signin_again_after_the_first_link_was_used(
    wallet: Any,
    person: str,
    browser: Any,
    viewport: str,
    output_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from linkpay.wallet.store.models import User

    monkeypatch.setenv("LINKPAY_DATA_DIR", str(wallet.settings.data_dir))
    monkeypatch.setenv("LINKPAY_DATABASE_URL", wallet.settings.database_url)
    monkeypatch.setenv("LINKPAY_PUBLIC_URL", wallet.settings.public_url)
    with wallet.session() as db:
        user = db.get(User, person)
        assert user is not None
        email = user.email

    def fresh_link() -> str:
        capsys.readouterr()
        assert link_wallet(["signin-link", "--email", email, "--format", "json"]) == 0
        return str(json.loads(capsys.readouterr().out)["url"])

    first = fresh_link()
    context, page = open_page(browser, viewport)
    sign_in(page, first)
    context.close()
    context, page = open_page(browser, viewport)
    page.goto(first.replace("127.0.0.1", "localhost", 1))
    expect(page.get_by_role("heading", name="Link used or expired")).to_be_visible()
    assert "link-wallet signin-link" in page.locator("main").inner_text()
    shot(page, output_dir, "signin-link-used", viewport)
    sign_in(page, fresh_link())
    context.close()


def test_shipping_addresses(wallet: Any, page: Any, viewport: str, output_dir: Path) -> None:
    page.goto(f"{base(wallet)}/addresses")
    form = page.locator("form[action='/addresses']")
    form.get_by_label("Nickname").fill("Home")
    form.locator("#name").fill("Ada Lovelace")
    form.get_by_label("Address line 1").fill("12 St James's Square")
    form.get_by_label("City").fill("London")
    form.get_by_label("Postal code").fill("SW1Y 4JH")
    form.get_by_label("Country").fill("gb")
    form.get_by_role("button", name="Add address").click()
    expect(page.get_by_role("status").filter(has_text="Address added.")).to_be_visible()
    home = page.locator("[data-address]").filter(has_text="Home")
    assert "default" in home.inner_text() and "SW1Y 4JH" in home.inner_text()
    form = page.locator("form[action='/addresses']")
    form.get_by_label("Nickname").fill("Office")
    form.locator("#name").fill("Ada Lovelace")
    form.get_by_label("Address line 1").fill("1 Analytical Row")
    form.get_by_label("City").fill("London")
    form.get_by_label("Country").fill("1X")  # refused, form kept
    form.get_by_role("button", name="Add address").click()
    expect(page.get_by_role("alert").filter(has_text="country_code")).to_be_visible()
    form = page.locator("form[action='/addresses']")
    assert form.get_by_label("Address line 1").input_value() == "1 Analytical Row"
    form.get_by_label("Country").fill("GB")
    form.get_by_role("button", name="Add address").click()
    office = page.locator("[data-address]").filter(has_text="Office")
    office.get_by_role("button", name=re.compile("^Make default")).click()
    expect(page.get_by_role("status").filter(has_text="Default address changed")).to_be_visible()
    assert "default" in page.locator("[data-address]").first.inner_text()
    assert "Office" in page.locator("[data-address]").first.inner_text()
    page.locator("[data-address]").filter(has_text="Office").get_by_role(
        "link", name=re.compile("^Edit")
    ).click()
    page.get_by_label("Address line 2").fill("Floor 2")
    page.get_by_role("button", name="Save address").click()
    assert "Floor 2" in page.locator("[data-address]").filter(has_text="Office").inner_text()
    shot(page, output_dir, "addresses", viewport)
    page.locator("[data-address]").filter(has_text="Home").get_by_role(
        "button", name=re.compile("^Remove")
    ).click()
    expect(page.get_by_role("status").filter(has_text="Address removed.")).to_be_visible()
    assert page.locator("[data-address]").count() == 1


def test_card_remove_and_default(wallet: Any, page: Any, viewport: str, output_dir: Path) -> None:
    page.goto(f"{base(wallet)}/payment-methods")
    page.get_by_role("button", name=re.compile(r"^Add a test card \(Mastercard 4444\)")).click()
    expect(page.get_by_role("status").filter(has_text="Test card added.")).to_be_visible()
    cards = page.locator("[data-card]")
    assert cards.count() == 2
    cards.filter(has_text="Mastercard").get_by_role(
        "button", name=re.compile("^Make default")
    ).click()
    expect(page.get_by_role("status").filter(has_text="Default card changed")).to_be_visible()
    assert "default" in page.locator("[data-card]").filter(has_text="Mastercard").inner_text()
    page.locator("[data-card]").filter(has_text="Visa").get_by_role(
        "button", name=re.compile("^Remove")
    ).click()
    expect(page.get_by_role("status").filter(has_text="Card removed.")).to_be_visible()
    assert page.locator("[data-card]").count() == 1
    shot(page, output_dir, "payment-methods", viewport)


def test_receipt_page_and_json(
    wallet: Any, person: str, page: Any, viewport: str, output_dir: Path
) -> None:
    token = wallet.agent_login(person, connection_label=AGENT)
    spend_id = create_spend_request(wallet, token.access_token)
    page.goto(f"{base(wallet)}/approve/{spend_id}")
    page.get_by_role("button", name=re.compile(r"^Approve ")).click()
    expect(page.get_by_role("status").filter(has_text="Approved. The agent")).to_be_visible()
    _charge(wallet, token.access_token, spend_id)
    page.goto(f"{base(wallet)}/receipts/{spend_id}")
    assert page.locator("[data-asked-by]").inner_text() == AGENT
    assert "replacement phone charger" in page.locator("[data-context]").inner_text()
    assert "Approved by" in page.locator("[data-decision]").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", page.locator("[data-approval-hash]").inner_text())
    assert page.locator("[data-charge]").count() == 1
    shot(page, output_dir, "receipt", viewport)
    download = page.request.get(f"{base(wallet)}/receipts/{spend_id}.json")
    assert download.ok and "attachment" in download.headers["content-disposition"]
    body = download.json()
    assert body["asked"]["by"] == AGENT
    assert body["decision"]["approval_hash"] == page.locator("[data-approval-hash]").inner_text()
    assert body["charges"][0]["status"] == "succeeded"


def _charge(wallet: Any, access_token: str, spend_id: str) -> None:
    _merchant, api_key, _network = wallet.create_merchant(
        "Volt Supply", "https://volt-supply.example"
    )
    with wallet.http(access_token) as agent:
        card = agent.get(f"/spend_requests/{spend_id}", params={"include": "card"}).json()["card"]
        amount = agent.get(f"/spend_requests/{spend_id}").json()["amount"]
    with wallet.http() as network:
        charged = network.post(
            "/v1/test_network/card_charges",
            json={
                "number": card["number"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "cvc": card["cvc"],
                "amount": amount,
                "currency": "usd",
            },
            headers={"Authorization": f"Bearer {api_key}"},
        )
    assert charged.status_code == 200, charged.text


def test_unknown_url_is_an_html_page_for_browsers(
    wallet: Any, page: Any, viewport: str, output_dir: Path
) -> None:
    answer = page.goto(f"{base(wallet)}/no-such-page")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert "text/html" in answer.headers["content-type"]
    shot(page, output_dir, "not-found", viewport)
    with wallet.http() as api:
        raw = api.get("/no-such-page", headers={"Accept": "application/json"})
    assert raw.status_code == 404 and raw.json()["error"]["code"] == "not_found"
    favicon = page.request.get(f"{base(wallet)}/favicon.ico")
    assert favicon.ok and favicon.headers["content-type"] == "image/png"
