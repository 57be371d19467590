"""The fast paths of link-cli (`cli/fast.py`): they print exactly what the cyclopts path
prints, decline every spelling they do not know, stay current with the command tree
(`prebuilt.json`), and import neither the command tree nor the server stack.

Imports are observed from outside: the real `link-cli` script runs with
PYTHONPROFILEIMPORTTIME=1, which lists every module it imported on stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Outcome, create_args, run_link_cli

# Never on a fast path: the command tree, pydantic, terminal rendering, the server stack.
HEAVY = (
    "cyclopts",
    "pydantic",
    "pydantic_core",
    "rich",
    "yaml",
    "mcp",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "linkpay.cli.registry",
    "linkpay.cli.tree",
    "linkpay.wire",
    "linkpay.wallet",
    "toon_format",  # linkpay.toon writes the common shapes (tests/test_toon.py)
)


def _heavy(modules: set[str], allowed: tuple[str, ...] = ()) -> list[str]:
    heavy = [h for h in HEAVY if h not in allowed]
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in heavy))


def _prebuilt() -> dict[str, Any]:
    from linkpay.cli.prebuilt import PREBUILT_FILE

    data: dict[str, Any] = json.loads(Path(PREBUILT_FILE).read_text(encoding="utf-8"))
    return data


def test_prebuilt_matches_the_command_tree() -> None:
    """Help texts, positional fields and response shapes are regenerated from the real
    tree and models; a stale file means: run `python -m linkpay.cli.prebuild`."""
    from linkpay.cli.prebuild import build

    assert build() == _prebuilt(), "prebuilt.json is stale: python -m linkpay.cli.prebuild"


@pytest.mark.parametrize(
    "path",
    [[], ["spend-request"], ["spend-request", "retrieve"], ["spend-request", "create"], ["mpp"]],
)
def test_fast_help_is_what_cyclopts_prints(path: list[str], cli_env: dict[str, str]) -> None:
    fast, modules = run_link_cli([*path, "--help"], cli_env)
    assert fast.code == 0 and fast.stdout.startswith("Usage: link-cli")
    assert not _heavy(modules), _heavy(modules)
    assert "httpx2" not in modules
    # FORCE_COLOR="" keeps rich's output plain but sends the run down the cyclopts path.
    full, full_modules = run_link_cli([*path, "--help"], cli_env, FORCE_COLOR="")
    assert "cyclopts" in full_modules
    assert (fast.code, fast.stdout, fast.stderr) == (full.code, full.stdout, full.stderr)
    short, _ = run_link_cli([*path, "-h"], cli_env)
    assert short.stdout == fast.stdout


def test_bare_link_cli_prints_the_root_help(cli_env: dict[str, str]) -> None:
    bare, modules = run_link_cli([], cli_env)
    assert bare.code == 0 and bare.stdout == _prebuilt()["help"][""]
    assert not _heavy(modules)


def test_fast_help_declines_other_widths(cli_env: dict[str, str]) -> None:
    """COLUMNS=100: rich lays the help out 100 wide, so the 80-column text must not be
    printed; cyclopts answers."""
    wide, modules = run_link_cli(["spend-request", "retrieve", "--help"], cli_env, COLUMNS="100")
    assert wide.code == 0 and "cyclopts" in modules
    assert wide.stdout != _prebuilt()["help"]["spend-request retrieve"]
    assert max(len(line) for line in wide.stdout.splitlines()) == 100


@pytest.mark.parametrize(
    "tokens",
    [
        ["lsrq_1"],
        ["lsrq_1", "--include", "card"],
        ["--include", "card", "lsrq_1"],
        ["lsrq_1", "--include", "card", "--include", "shared_payment_token"],
        ["lsrq_1", "--include", "card", "--include", "card"],
        ["x" * 200],
        ["näive id with spaces"],
    ],
)
def test_parse_retrieve_agrees_with_cyclopts(tokens: list[str]) -> None:
    import io

    from linkpay.cli.fast import parse_retrieve
    from linkpay.cli.registry import Context, load_commands
    from linkpay.cli.tree import build_app

    parsed = parse_retrieve(["spend-request", "retrieve", *tokens])
    assert parsed is not None
    app = build_app(load_commands(), Context(stderr=io.StringIO()))
    _command, bound, _ignored = app.parse_args(["spend-request", "retrieve", *tokens])
    assert parsed == (bound.arguments["id"], tuple(bound.arguments.get("include") or ()))
    assert set(bound.arguments) <= {"id", "include"}


@pytest.mark.parametrize(
    "tokens",
    [
        [],
        ["--id", "lsrq_1"],
        ["lsrq_1", "--include=card"],
        ["lsrq_1", "--include", "bogus"],
        ["lsrq_1", "--include"],
        ["lsrq_1", "--interval", "2"],
        ["lsrq_1", "--output-file", "card.json"],
        ["lsrq_1", "extra"],
        ["-lsrq_1"],
        ["--", "lsrq_1"],
        [""],
        ["x" * 201],
    ],
)
def test_parse_retrieve_declines_other_spellings(tokens: list[str]) -> None:
    from linkpay.cli.fast import parse_retrieve

    assert parse_retrieve(["spend-request", "retrieve", *tokens]) is None


def test_fast_retrieve_against_the_wallet(
    wallet: Any, logged_in: str, cli: Any, cli_env: dict[str, str]
) -> None:
    """The fast path answers from the wallet without pydantic or cyclopts, and prints
    what the cyclopts path prints (`--id ID` is a spelling only that path takes), in
    every format, before and after approval, with and without the card."""
    created = cli(*create_args("--request-approval"), "--format", "json")
    assert created.code == 0, created
    ident = created.json()["id"]

    def both(*extra: str) -> Outcome:
        fast, modules = run_link_cli(["spend-request", "retrieve", ident, *extra], cli_env)
        assert fast.code == 0, fast
        allowed = ("yaml",) if "yaml" in extra else ()  # the chosen format's library
        assert not _heavy(modules, allowed), _heavy(modules, allowed)
        assert "httpx2" not in modules  # client/plain_get.py made the GET
        full, full_modules = run_link_cli(
            ["spend-request", "retrieve", "--id", ident, *extra], cli_env
        )
        assert "cyclopts" in full_modules
        assert (fast.code, fast.stdout, fast.stderr) == (full.code, full.stdout, full.stderr)
        return fast

    for fmt in ("toon", "json", "yaml", "md", "jsonl"):
        both("--format", fmt)
    import toon_format

    as_json = json.loads(both("--format", "json").stdout)
    assert both().stdout == toon_format.dumps(as_json) + "\n"
    pending = json.loads(both("--format", "json").stdout)
    assert pending["status"] == "pending_approval" and "_next" in pending

    wallet.approve(ident, logged_in)
    approved = json.loads(both("--format", "json").stdout)
    assert approved["status"] == "approved" and "card" not in approved
    assert approved["_next"]["command"].startswith(f"link-cli spend-request retrieve {ident} ")
    with_card = json.loads(both("--include", "card", "--format", "json").stdout)
    assert with_card["card"]["number"].isdigit()
    filtered = both("--filter-output", "id,status", "--json")
    assert json.loads(filtered.stdout) == {"id": ident, "status": "approved"}


def test_fast_retrieve_errors_match(wallet: Any, logged_in: str, cli_env: dict[str, str]) -> None:
    fast, modules = run_link_cli(["spend-request", "retrieve", "lsrq_missing"], cli_env)
    assert fast.code == 1 and "NOT_FOUND" in fast.stdout
    assert not _heavy(modules) and "httpx2" not in modules
    full, _ = run_link_cli(["spend-request", "retrieve", "--id", "lsrq_missing"], cli_env)
    assert (fast.code, fast.stdout) == (full.code, full.stdout)


def test_fast_retrieve_not_logged_in(cli_env: dict[str, str]) -> None:
    fast, modules = run_link_cli(["spend-request", "retrieve", "lsrq_1", "--json"], cli_env)
    assert fast.code == 1 and json.loads(fast.stdout)["code"] == "NOT_AUTHENTICATED"
    assert not _heavy(modules) and "httpx2" not in modules


def test_without_prebuilt_json_the_registry_answers(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    """A broken install (no prebuilt.json): the same answers, the slow way."""
    script = (
        "import sys; import linkpay.cli.prebuilt as p; p.PREBUILT_FILE = sys.argv[1]; "
        "from linkpay.cli.main import main; sys.exit(main(sys.argv[2:]))"
    )
    env = {**os.environ, **cli_env}
    for argv in (["--help"], ["spend-request", "retrieve", "lsrq_1", "--json"]):
        done = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "missing.json"), *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        normal, _ = run_link_cli(argv, cli_env)
        assert (done.returncode, done.stdout) == (normal.code, normal.stdout), argv
