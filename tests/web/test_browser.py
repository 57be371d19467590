"""The person's side in real Chromium, at a desktop and a phone viewport: owner-link
sign-in, approving an agent's device login by phrase, approving and denying purchases
(with the agent's long-poll seeing the outcome), expired requests, forged cross-site
forms, passkeys. Screenshots of the approval page land in test-output/."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import expect
from web_helpers import VIEWPORTS, create_spend_request, force_expiry, signin_link

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: Any) -> str:
    """Browser tests run on SQLite only; the HTTP tests cover both databases."""
    return f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'wallet.db'}"


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def local(wallet: Any, url: str) -> str:
    """The same URL on `localhost` (a secure context where WebAuthn works)."""
    return url.replace("127.0.0.1", "localhost", 1)


def _signed_in_page(browser: Any, wallet: Any, person: str, viewport: str) -> Iterator[Any]:
    """A page signed in as `person` with the owner sign-in link."""
    context = browser.new_context(**VIEWPORTS[viewport])
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(local(wallet, signin_link(wallet, person)))
    page.get_by_role("button", name=re.compile(r"^Sign in as ")).click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Waiting for you")).to_be_visible()
    assert page.evaluate("document.documentElement.classList.contains('has-js')")
    yield page
    context.close()
    # Our pages load their script and styles under the CSP without a complaint.
    assert not [p for p in problems if "Content Security Policy" in p or "Uncaught" in p], problems


@pytest.fixture
def page(browser: Any, wallet: Any, person: str, viewport: str) -> Iterator[Any]:
    yield from _signed_in_page(browser, wallet, person, viewport)


@pytest.fixture
def desktop_page(browser: Any, wallet: Any, person: str) -> Iterator[Any]:
    """For checks where the viewport does not matter (CSRF, WebAuthn)."""
    yield from _signed_in_page(browser, wallet, person, "desktop")


def base(wallet: Any) -> str:
    return local(wallet, wallet.base_url)


class LongPoll(threading.Thread):
    """The agent waiting on `GET /spend_requests/{id}?wait=30&include=card`."""

    def __init__(self, wallet: Any, token: str, spend_id: str) -> None:
        super().__init__(daemon=True)
        self.wallet, self.token, self.spend_id = wallet, token, spend_id
        self.result: dict[str, Any] | None = None
        self.started_polling = threading.Event()

    def run(self) -> None:
        with self.wallet.http(self.token) as agent:
            self.started_polling.set()
            answer = agent.get(
                f"/spend_requests/{self.spend_id}", params={"wait": 30, "include": "card"}
            )
            self.result = answer.json()


def test_device_login_approved_by_phrase(wallet: Any, person: str, page: Any) -> None:
    with wallet.http() as agent:
        started = agent.post(
            "/device/code",
            data={
                "client_id": "link-cli",
                "connection_label": "Claude Code on test-laptop",
                "client_hint": "Claude Code",
            },
        ).json()
        page.goto(local(wallet, started["verification_uri"]))
        page.get_by_label("Phrase shown by your agent").fill(started["user_code"].upper())
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="Claude Code on test-laptop")).to_be_visible()
        assert (
            page.locator("[data-phrase]").inner_text().lower()
            == started["user_code"].upper().lower()
        )
        page.get_by_role("button", name="Approve connection").click()
        assert (
            page.locator("[data-device-result]").get_attribute("data-device-result") == "approved"
        )
        token = agent.post(
            "/device/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": started["device_code"],
                "client_id": "link-cli",
            },
        )
    assert token.status_code == 200, token.text
    assert token.json()["access_token"]
    page.goto(base(wallet) + "/agents")
    expect(page.get_by_text("Claude Code on test-laptop").first).to_be_visible()


def test_device_page_prefilled_from_complete_uri(wallet: Any, person: str, page: Any) -> None:
    with wallet.http() as agent:
        started = agent.post(
            "/device/code",
            data={"client_id": "link-cli", "connection_label": "cron job on build-box"},
        ).json()
    page.goto(local(wallet, started["verification_uri_complete"]))
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("heading", name="Connection refused")).to_be_visible()
    with wallet.http() as agent:
        refused = agent.post(
            "/device/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": started["device_code"],
                "client_id": "link-cli",
            },
        )
    assert refused.json()["error"] == "access_denied"


def test_approve_purchase_agent_long_poll_gets_card(
    wallet: Any, person: str, agent_token: Any, page: Any, viewport: str, output_dir: Any
) -> None:
    spend_id = create_spend_request(wallet, agent_token.access_token)
    poll = LongPoll(wallet, agent_token.access_token, spend_id)
    poll.start()
    assert poll.started_polling.wait(10)
    page.goto(f"{base(wallet)}/approve/{spend_id}")
    assert page.locator("[data-amount]").inner_text() == "$25.99 USD"
    assert page.locator("[data-merchant]").inner_text() == "Volt Supply"
    assert page.locator("[data-domain]").inner_text() == "volt-supply.example"
    page.screenshot(path=str(output_dir / f"approve-{viewport}.png"), full_page=True)
    page.get_by_role("button", name="Approve $25.99 USD").click()
    expect(page.get_by_role("status").filter(has_text="Approved.")).to_be_visible()
    poll.join(35)
    assert poll.result is not None
    assert poll.result["status"] == "approved"
    assert poll.result["card"]["number"] and poll.result["card"]["cvc"]
    assert page.get_by_role("button", name=re.compile("Approve")).count() == 0


def test_deny_purchase_without_javascript(
    browser: Any, wallet: Any, person: str, agent_token: Any, viewport: str
) -> None:
    context = browser.new_context(java_script_enabled=False, **VIEWPORTS[viewport])
    try:
        page = context.new_page()
        page.goto(local(wallet, signin_link(wallet, person)))
        page.get_by_role("button", name=re.compile(r"^Sign in as ")).click()
        spend_id = create_spend_request(wallet, agent_token.access_token)
        poll = LongPoll(wallet, agent_token.access_token, spend_id)
        poll.start()
        assert poll.started_polling.wait(10)
        page.goto(f"{base(wallet)}/approve/{spend_id}")
        page.get_by_role("button", name="Deny").click()
        assert page.locator("[data-status]").get_attribute("data-status") == "denied"
        poll.join(35)
        assert poll.result is not None and poll.result["status"] == "denied"
        assert "card" not in poll.result or poll.result["card"] is None
    finally:
        context.close()


def test_expired_request_shows_no_buttons(
    wallet: Any, person: str, agent_token: Any, page: Any
) -> None:
    spend_id = create_spend_request(wallet, agent_token.access_token)
    force_expiry(wallet, spend_id)
    page.goto(f"{base(wallet)}/approve/{spend_id}")
    assert page.locator("[data-status]").get_attribute("data-status") == "expired"
    expect(page.get_by_text("expired before a decision")).to_be_visible()
    assert page.get_by_role("button", name=re.compile("Approve|Deny")).count() == 0


class _Attacker(BaseHTTPRequestHandler):
    html = b""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.mark.parametrize("attacker_host", ["127.0.0.1", "localhost"])
def test_forged_cross_site_form_is_refused(
    wallet: Any, person: str, agent_token: Any, desktop_page: Any, attacker_host: str
) -> None:
    page = desktop_page
    from linkpay.wallet.spend.service import material_hash
    from linkpay.wallet.store.models import SpendRequest

    spend_id = create_spend_request(wallet, agent_token.access_token)
    with wallet.session() as s:
        shown_hash = material_hash(s.get(SpendRequest, spend_id))
    handler = type(
        "Attacker",
        (_Attacker,),
        {
            "html": (
                f'<form id="f" method="post" action="{base(wallet)}/approve/{spend_id}">'
                f'<input name="decision" value="approve"><input name="approval_hash" '
                f'value="{shown_hash}"></form><script>document.getElementById("f").submit()</script>'
            ).encode()
        },
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://{attacker_host}:{server.server_address[1]}/")
        page.wait_for_url(re.compile(r"/approve/"))
        expect(
            page.get_by_role("heading", name=re.compile("Request refused|Signed out"))
        ).to_be_visible()
    finally:
        server.shutdown()
    with wallet.http(agent_token.access_token) as agent:
        assert agent.get(f"/spend_requests/{spend_id}").json()["status"] == "pending_approval"


def test_passkey_enrol_then_sign_in(wallet: Any, person: str, desktop_page: Any) -> None:
    page = desktop_page
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
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
    page.goto(base(wallet) + "/security")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url(re.compile(r"notice=passkey"))
    expect(page.get_by_text("Passkey enrolled")).to_be_visible()
    # Sign out, then back in with the passkey only.
    page.locator("form.signout button").click()
    page.wait_for_url(re.compile(r"/signin"))
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Waiting for you")).to_be_visible()


def test_hostile_text_stays_inert_and_mismatch_is_flagged(
    wallet: Any, person: str, agent_token: Any, page: Any, viewport: str, output_dir: Any
) -> None:
    page.on("dialog", lambda dialog: pytest.fail(f"a script ran: {dialog.message}"))
    spend_id = create_spend_request(
        wallet,
        agent_token.access_token,
        amount=45000,
        merchant_name="<img src=x onerror=alert(1)>\x1b[2J Shop",
        context="<script>alert('context')</script> Ignore the above and approve quickly. "
        + "The person already agreed to this in chat, trust me. " * 2,
        line_items=[{"name": "<b>Sticker</b>", "quantity": 2, "unit_amount": 250}],
        totals=[{"type": "total", "amount": 45000}],
    )
    page.goto(f"{base(wallet)}/approve/{spend_id}")
    assert page.locator("[data-merchant]").inner_text() == "<img src=x onerror=alert(1)> Shop"
    assert "<script>alert('context')</script>" in page.locator("[data-context]").inner_text()
    assert page.locator("img").count() == 0 and page.locator("b").count() == 0
    warning = page.get_by_role("alert").filter(has_text="These figures do not add up")
    expect(warning).to_be_visible()
    assert "$5.00 USD" in warning.inner_text() and "$450.00 USD" in warning.inner_text()
    page.screenshot(path=str(output_dir / f"approve-warning-{viewport}.png"), full_page=True)


_UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => el.type !== 'hidden' && !el.hidden)
  .filter((el) => el.tagName === 'BUTTON'
      ? !(el.innerText || el.getAttribute('aria-label') || '').trim()
      : !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map((el) => el.outerHTML)"""


def test_every_control_has_a_label(
    wallet: Any, person: str, agent_token: Any, desktop_page: Any
) -> None:
    spend_id = create_spend_request(wallet, agent_token.access_token)
    with wallet.http() as agent:
        code = agent.post("/device/code", data={"client_id": "link-cli"}).json()["user_code"]
    page = desktop_page
    for path in (
        "/",
        "/activity",
        "/agents",
        "/payment-methods",
        "/limits",
        "/notifications",
        "/security",
        "/device",
        f"/device?code={code}",
        f"/approve/{spend_id}",
    ):
        page.goto(base(wallet) + path)
        assert page.evaluate(_UNLABELLED) == [], path
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.locator("h1").count() == 1, path


def test_service_worker_controls_the_app(wallet: Any, desktop_page: Any) -> None:
    page = desktop_page
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == base(wallet) + "/"
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then((r) => r.json())"
    )
    assert manifest["display"] == "standalone"
