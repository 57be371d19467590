"""The smaller fixes of the person's side, over HTTP on SQLite and PostgreSQL: the test
notification says when there is nowhere to send it, the device phrase is shown as the
agent shows it, long user agents are cut at a word, agents waiting to connect are
listed on home, the nav says "Waiting for you", and a shared HTML/JSON 404 split."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
from web_helpers import csrf_from, signed_in_client, signin_link

UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0.0.0 Safari/537.36"
)


@pytest.fixture
def client(wallet: Any, person: str) -> Iterator[Any]:
    signed_in = signed_in_client(wallet, person)
    yield signed_in
    signed_in.close()


def same_origin(wallet: Any) -> dict[str, str]:
    return {"Origin": wallet.base_url, "Sec-Fetch-Site": "same-origin"}


def test_test_notification_without_a_channel_says_so(wallet: Any, client: Any) -> None:
    page = client.get("/notifications")
    sent = client.post(
        "/notifications/test",
        data={"csrf_token": csrf_from(page.text)},
        headers=same_origin(wallet),
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/notifications?notice=none"
    shown = html.unescape(client.get(sent.headers["location"]).text)
    assert "No channel to send to yet" in shown and "every channel" not in shown


def test_phrase_shown_as_the_agent_shows_it(wallet: Any, client: Any) -> None:
    with wallet.http() as agent:
        started = agent.post(
            "/device/code", data={"client_id": "link-cli", "connection_label": "Claude Code on vm"}
        ).json()
    typed = "  " + started["user_code"].upper().replace("-", "  ") + " "
    page = html.unescape(client.get("/device", params={"code": typed}).text)
    assert f'value="{started["user_code"]}"' in page
    home = html.unescape(client.get("/").text)
    assert "Agents waiting to connect" in home and "Claude Code on vm" in home
    assert started["user_code"] not in home  # the phrase itself is never shown
    assert ">Waiting for you</a>" in home and ">Pending</a>" not in home


def test_user_agents_are_cut_at_a_word(wallet: Any, person: str) -> None:
    with wallet.http(follow_redirects=False, headers={"User-Agent": UA}) as browser:
        link = signin_link(wallet, person)
        page = browser.get(link)
        browser.post(
            link,
            data={"csrf_token": csrf_from(page.text), "next": "/"},
            headers={"Origin": wallet.base_url},
        )
        security = html.unescape(browser.get("/security").text)
    assert "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML,…" in security
    assert "(KHTML, l…" not in security  # never mid-word


def test_html_for_browsers_json_for_clients(wallet: Any) -> None:
    with wallet.http() as client:
        page = client.get("/nowhere", headers={"Accept": "text/html,application/xhtml+xml"})
        api = client.get("/nowhere", headers={"Accept": "application/json"})
        default = client.get("/nowhere")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text and "Content-Security-Policy" in page.headers
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert default.status_code == 404 and default.json()["error"]["code"] == "not_found"
