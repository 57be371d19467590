"""Pieces of link-cli that need no wallet: sanitizer, filters, nested-flag parsing,
the credential file writer, the token file, the registry projections and the fast
--version path."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from linkpay.cli.parsing import LINE_ITEM_KEYS, parse_line_items, parse_pairs
from linkpay.cli.registry import CommandError, load_commands
from linkpay.formats import filter_output, prepare, render
from linkpay.text import sanitize_deep, sanitize_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Mug \x1b[31mShop\x1b[0m", "Mug Shop"),
        ("A\x1b]8;;https://evil.example\x07link\x1b]8;;\x07", "Alink"),
        ("Approve\r\x1b[2KDENIED", "ApproveDENIED"),
        ("tab\tand\nnewline kept", "tab\tand\nnewline kept"),
        ("bell\x07 nul\x00 del\x7f c1\x9b31m", "bell nul del c1"),
        ("bidi \u202eevil\u202c", "bidi evil"),
        ("plain café ✓", "plain café ✓"),
    ],
)
def test_sanitize_text(raw: str, clean: str) -> None:
    assert sanitize_text(raw) == clean


def test_sanitize_applies_to_keys_and_nested_values_in_every_format() -> None:
    data = {"merchant\x1b[1m": {"items": [{"name": "\x1b[31mred\x1b[0m"}]}}
    prepared = prepare(data)
    assert prepared == {"merchant": {"items": [{"name": "red"}]}}
    for fmt in ("toon", "json", "yaml", "md", "jsonl"):
        assert "\x1b" not in render(prepared, fmt)
    assert sanitize_deep(["\x1b[0m", 3, None]) == ["", 3, None]


def test_filter_output_paths() -> None:
    data = {"id": "x", "card": {"brand": "visa", "number": "4242"}, "status": "approved"}
    assert filter_output(data, ["id", "card.brand"]) == {"id": "x", "card": {"brand": "visa"}}
    rows = [{"id": 1, "a": {"b": 2, "c": 3}}, {"id": 2, "a": {"b": 4}}]
    assert filter_output(rows, ["a.b"]) == [{"a": {"b": 2}}, {"a": {"b": 4}}]


def test_line_item_values_may_contain_commas_and_colons() -> None:
    items = parse_line_items(["name:Mug, large,url:https://shop.example/a?x=1,y=2,quantity:2"])
    assert items == [{"name": "Mug, large", "url": "https://shop.example/a?x=1,y=2", "quantity": 2}]
    with pytest.raises(CommandError) as err:
        parse_pairs("name:Mug,colour:red", LINE_ITEM_KEYS, "--line-item")
    assert err.value.code == "INVALID_INPUT" and "allowed keys" in err.value.message


def test_secret_file_writer(tmp_path: Path) -> None:
    from linkpay.cli.output.files import write_secret_file

    target = tmp_path / "card.json"
    written = write_secret_file(target, {"number": "4242"})
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    with pytest.raises(CommandError) as exists:
        write_secret_file(target, {})
    assert exists.value.code == "OUTPUT_FILE_EXISTS"
    write_secret_file(target, {"number": "5555"}, force=True)
    assert json.loads(target.read_text()) == {"number": "5555"}
    dangling = tmp_path / "dangling.json"
    os.symlink(tmp_path / "nowhere", dangling)
    with pytest.raises(CommandError) as link:
        write_secret_file(dangling, {}, force=True)
    assert link.value.code == "OUTPUT_FILE_SYMLINK" and not (tmp_path / "nowhere").exists()
    with pytest.raises(CommandError) as directory:
        write_secret_file(tmp_path, {}, force=True)
    assert directory.value.code == "OUTPUT_FILE_WRITE_ERROR"


def test_token_file_is_private_and_refuses_links(tmp_path: Path) -> None:
    from linkpay.client.errors import NotAuthenticated
    from linkpay.client.tokens import Tokens, TokenStore

    path = tmp_path / "cfg" / "auth.json"
    store = TokenStore(path, env={})
    assert store.load() is None
    store.save(Tokens(access_token="a1", refresh_token="r1", expires_at=1.0, scope="s"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    loaded = store.load()
    assert loaded is not None and loaded.access_token == "a1" and loaded.expired()
    assert "a1" not in repr(loaded)
    assert [p.name for p in path.parent.iterdir()] == ["auth.json"]  # no temp files left

    os.chmod(path, 0o644)
    with pytest.raises(NotAuthenticated, match="readable by other users"):
        store.load()
    os.chmod(path, 0o600)
    link = tmp_path / "link.json"
    os.symlink(path, link)
    with pytest.raises(NotAuthenticated, match="symlink"):
        TokenStore(link, env={}).load()

    env_store = TokenStore(path, env={"LINK_ACCESS_TOKEN": "from-env", "LINK_NO_REFRESH": "1"})
    assert env_store.load().access_token == "from-env" and not env_store.refresh_enabled  # type: ignore[union-attr]


def test_registry_projects_every_command() -> None:
    commands = load_commands()
    names = {cmd.name for cmd in commands}
    assert {
        "auth login",
        "auth status",
        "auth logout",
        "auth upgrade",
        "payment-methods list",
        "payment-methods add",
        "spend-request create",
        "spend-request update",
        "spend-request retrieve",
        "spend-request list",
        "spend-request cancel",
        "spend-request request-approval",
        "shipping-address list",
        "user-info retrieve",
        "transactions list",
        "report",
        "serve",
    } <= names
    for cmd in commands:
        assert cmd.tool_name == cmd.name.replace("-", "_").replace(" ", "_")
        schema = cmd.input_schema(for_mcp=True)
        assert schema["type"] == "object" and "$defs" not in schema  # flat params
        assert cmd.description
    create = next(cmd for cmd in commands if cmd.name == "spend-request create")
    assert create.flag_meta("merchant_name").aliases == ("-m",)


def test_schema_and_llms(cli: Any) -> None:
    schema = cli("spend-request", "create", "--schema", "--format", "json").json()
    assert schema["properties"]["context"]["description"].startswith("At least 100 characters")
    listing = cli("--llms", "--format", "json").json()
    assert {
        "command": "link-cli spend-request create",
        "mcp_tool": "spend_request_create",
    }.items() <= next(
        row for row in listing if row["command"] == "link-cli spend-request create"
    ).items()
    full = cli("--llms-full", "--format", "json").json()
    create = next(row for row in full if row["command"] == "link-cli spend-request create")
    flags = {param["flag"]: param for param in create["parameters"]}
    assert flags["--amount"]["required"] is True and flags["--merchant-name"]["aliases"] == ["-m"]
    assert cli("--version").stdout.startswith("link-cli ")


def test_version_fast_path_imports_nothing_heavy() -> None:
    code = (
        "import sys; from linkpay.cli.main import main; main(['--version']); "
        "heavy = {'pydantic', 'httpx2', 'rich', 'mcp', 'yaml', 'toon_format', 'cyclopts'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [out.stdout.splitlines()[0], "[]"]
    assert out.stdout.startswith("link-cli ")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_tty_view_is_readable_and_same_data(cli_env: dict[str, str]) -> None:
    from linkpay.cli.app import run

    out, err = _Tty(), _Tty()
    assert run(["--llms"], stdout=out, stderr=err) == 0
    table = out.getvalue()
    assert "command" in table and "description" in table and "│" in table  # a rich table
    assert "│" not in err.getvalue()
    out = _Tty()
    assert run(["spend-request", "list"], stdout=out, stderr=err) == 1
    assert out.getvalue().startswith("Error [NOT_AUTHENTICATED]: ")


def test_tty_qr_for_links() -> None:
    from linkpay.cli.output.tty import show_link

    err = io.StringIO()
    show_link("http://127.0.0.1:8765/approve/lsrq_1", "Approve here", err)
    text = err.getvalue()
    assert text.startswith("Approve here: http://127.0.0.1:8765/approve/lsrq_1")
    assert len(text.splitlines()) > 10  # the QR code rows


def test_cli_context_minimum_matches_the_wire() -> None:
    from linkpay.cli.commands.spend_request import MIN_CONTEXT_LENGTH
    from linkpay.wire import MIN_CONTEXT_LENGTH as WIRE_MIN

    assert MIN_CONTEXT_LENGTH == WIRE_MIN
