"""Card safety (an empty --output-file, a symlink anywhere on the path, a broken
--filter-output: errors, never card data on stdout) and the update check against a
local fake package index (once a day, cached, off for NO_UPDATE_NOTIFIER / CI)."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest

CARD = {
    "id": "card_1",
    "brand": "visa",
    "number": "4000002760009999",
    "cvc": "987",
    "exp_month": 1,
    "exp_year": 2031,
}
APPROVED = {
    "id": "lsrq_safe",
    "status": "approved",
    "merchant_name": "Shop",
    "merchant_url": "https://shop.example",
    "context": "c" * 100,
    "amount": 100,
    "currency": "usd",
    "credential_type": "card",
    "created_at": "2026-11-25T14:00:00Z",
    "updated_at": "2026-11-25T14:00:00Z",
    "card": CARD,
}


@pytest.fixture
def card_wallet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """A wallet that always hands out the card; records every request path."""
    from linkpay.cli.registry import Context
    from linkpay.client import Link

    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url.path)
        return httpx2.Response(200, json=APPROVED)

    def link(self: Context) -> Link:
        if self._link is None:
            self._link = Link(
                api_base_url="http://127.0.0.1:8765",
                auth_base_url="http://127.0.0.1:8765",
                auth_file=tmp_path / "auth.json",
                access_token="t",
                transport=httpx2.MockTransport(handler),
            )
        return self._link

    monkeypatch.setattr(Context, "link", link)
    return seen


def _retrieve(cli: Any, *extra: str) -> Any:
    return cli("spend-request", "retrieve", "lsrq_safe", *extra, "--json")


def _no_card(outcome: Any) -> None:
    assert CARD["number"] not in outcome.stdout + outcome.stderr
    # File paths come from pytest (".../pytest-987/..." can hold the CVC's digits).
    assert CARD["cvc"] not in re.sub(r"/[^\s\"']*", "<PATH>", outcome.stdout)


def test_empty_output_file_is_invalid_input(cli: Any, card_wallet: list[str]) -> None:
    for extra in ([], ["--include", "card"], ["--force"]):
        outcome = cli(
            "spend-request", "retrieve", "lsrq_safe", *extra, "--output-file", "", "--json"
        )
        assert outcome.code == 1 and outcome.json()["code"] == "INVALID_INPUT", outcome
        assert "--output-file" in outcome.json()["message"]
        _no_card(outcome)
    assert card_wallet == []  # refused before any network call


def test_symlinked_parent_directory_is_refused(
    cli: Any, card_wallet: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (tmp_path / "dirlink").symlink_to(victim)
    nested = tmp_path / "real" / "inner"
    nested.mkdir(parents=True)
    (tmp_path / "real" / "hop").symlink_to(victim)
    for target in (tmp_path / "dirlink" / "card.json", tmp_path / "real" / "hop" / "x" / "c.json"):
        outcome = cli(
            "spend-request", "retrieve", "lsrq_safe", "--output-file", str(target), "--json"
        )
        assert outcome.code == 1 and outcome.json()["code"] == "OUTPUT_FILE_SYMLINK", outcome
        _no_card(outcome)
    assert list(victim.iterdir()) == []
    monkeypatch.chdir(tmp_path)
    relative = _retrieve(cli, "--output-file", "dirlink/card.json")
    assert relative.code == 1 and relative.json()["code"] == "OUTPUT_FILE_SYMLINK"
    fine = _retrieve(cli, "--output-file", str(nested / "c.json"))
    assert fine.code == 0 and fine.json()["card_output_file"] == str(nested / "c.json")
    _no_card(fine)
    assert json.loads((nested / "c.json").read_text())["card"]["number"] == CARD["number"]


def test_broken_filter_output_is_invalid_input(cli: Any, card_wallet: list[str]) -> None:
    for broken in ("[[[", "a..b", "card.number,", "id;rm"):
        outcome = cli("--filter-output", broken, "spend-request", "retrieve", "lsrq_safe", "--json")
        if broken == "card.number,":  # a trailing comma is only an empty part: fine
            assert outcome.code == 0
            _no_card(outcome)  # the card was not asked for, so the filter has nothing
            continue
        assert outcome.code == 1 and outcome.json()["code"] == "INVALID_INPUT", (broken, outcome)
        assert "--filter-output" in outcome.json()["message"]


class _Index(BaseHTTPRequestHandler):
    version = "99.0.0"
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).hits.append(self.path)
        body = json.dumps({"info": {"name": "linkpay", "version": type(self).version}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    _Index.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("LINK_UPDATE_INDEX_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NO_UPDATE_NOTIFIER", raising=False)
    monkeypatch.delenv("CI", raising=False)
    yield _Index
    server.shutdown()
    server.server_close()


def test_update_check_once_a_day_with_a_cache(cli: Any, index: Any, monkeypatch: Any) -> None:
    from linkpay import __version__

    first = cli("auth", "status", "--json", NO_UPDATE_NOTIFIER="")
    assert first.code == 0, first
    update = first.json()["update"]
    assert update == {
        "current_version": __version__,
        "latest_version": "99.0.0",
        "update_command": "pip install --upgrade linkpay",
    }
    assert index.hits == ["/pypi/linkpay/json"]
    again = cli("auth", "status", "--json")
    assert again.json()["update"]["latest_version"] == "99.0.0"
    assert len(index.hits) == 1  # answered from the cache

    from linkpay.cli import update_check

    cached = json.loads(update_check.cache_file().read_text())
    cached["checked_at"] -= 25 * 3600  # a day later: asked again
    update_check.cache_file().write_text(json.dumps(cached))
    index.version = __version__
    assert "update" not in cli("auth", "status", "--json").json()
    assert len(index.hits) == 2
    index.version = "99.0.0"


@pytest.mark.parametrize("switch", ["NO_UPDATE_NOTIFIER", "CI"])
def test_update_check_off(cli: Any, index: Any, monkeypatch: Any, switch: str) -> None:
    monkeypatch.setenv(switch, "1")
    assert "update" not in cli("auth", "status", "--json").json()
    assert index.hits == []


def test_update_check_never_fails_a_command(cli: Any, index: Any, monkeypatch: Any) -> None:
    from cli_helpers import closed_port_url

    monkeypatch.setenv("LINK_UPDATE_INDEX_URL", closed_port_url())
    outcome = cli("auth", "status", "--json")
    assert outcome.code == 0 and "update" not in outcome.json()
