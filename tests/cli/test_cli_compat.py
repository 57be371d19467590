"""Every official command and flag in docs/cli-compat.md is accepted by our CLI with
the same default: the table is read, each command's cyclopts app parses the flag, and
the input model's default is compared with the documented one."""

from __future__ import annotations

import io
import json
import typing
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli-compat.md"


def _rows() -> list[tuple[str, str, str]]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- compat-table:start -->")[1].split("<!-- compat-table:end -->")[0]
    rows = []
    for line in table.strip().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append((cells[0], cells[1], cells[2]))
    return rows


ROWS = _rows()


def _command(words: str) -> tuple[Any, list[str]]:
    from linkpay.cli.registry import find_command, load_commands

    load_commands()
    path = [word for word in words.split() if word not in ("ID", "URL")]
    cmd = find_command(tuple(path))
    assert cmd is not None, f"no command {' '.join(path)}"
    positional = ["lsrq_1" if "ID" in words.split() else "http://127.0.0.1/x"]
    return cmd, path + (positional if {"ID", "URL"} & set(words.split()) else [])


def _field(cmd: Any, flag: str) -> str:
    for name in cmd.input.model_fields:
        if cmd.flag_name(name) == flag or flag in cmd.flag_meta(name).aliases:
            return str(name)
    raise AssertionError(f"{cmd.name}: no flag {flag}")


def _sample(annotation: Any) -> list[str]:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if annotation is bool:
        return []
    if typing.get_origin(annotation) is typing.Literal:
        return [str(args[0])]
    for arg in args:
        if typing.get_origin(arg) is list:
            return _sample(typing.get_args(arg)[0])
        if typing.get_origin(arg) is typing.Literal:
            return [str(typing.get_args(arg)[0])]
    if annotation in (int, float) or int in args or float in args:
        return ["1"]
    return ["x" * 100]


def _tokens(cmd: Any, name: str) -> list[str]:
    meta = cmd.flag_meta(name)
    annotation = meta.cli_type or cmd.input.model_fields[name].annotation
    return [cmd.flag_name(name), *_sample(annotation)]


@pytest.mark.parametrize(("command", "flag", "default"), ROWS, ids=[f"{r[0]} {r[1]}" for r in ROWS])
def test_flag_parses_with_the_official_default(command: str, flag: str, default: str) -> None:
    from linkpay.cli.registry import Context, load_commands
    from linkpay.cli.tree import build_app

    cmd, words = _command(command)
    required = [
        name
        for name, info in cmd.input.model_fields.items()
        if info.is_required() and not cmd.flag_meta(name).positional
    ]
    extra: list[str] = []
    for name in required:
        extra += _tokens(cmd, name)
    app = build_app(load_commands(), Context(stderr=io.StringIO()))
    _fn, bound, _ignored = app.parse_args([*words, *extra], exit_on_error=False, print_error=False)
    assert bound is not None
    if not flag:
        return
    name = _field(cmd, flag)
    info = cmd.input.model_fields[name]
    if name not in required:
        _fn, bound, _ignored = app.parse_args(
            [*words, *extra, *_tokens(cmd, name)], exit_on_error=False, print_error=False
        )
        assert name in bound.arguments, (flag, bound.arguments)
    if default == "required":
        assert info.is_required(), f"{command} {flag} should be required"
    elif default == "—":
        assert not info.is_required() and info.get_default() is None, (flag, info.get_default())
    elif default == "[]":
        assert not info.is_required() and info.get_default() in (None, [])
    else:
        assert info.get_default() == json.loads(default), (flag, info.get_default())


def test_negative_request_approval_and_json_shorthand(cli: Any) -> None:
    """`--no-request-approval` and `--json` parse (validation fails later, offline)."""
    outcome = cli("spend-request", "create", "--no-request-approval", "--amount", "5", "--json")
    assert outcome.code == 1 and outcome.json()["code"] == "INVALID_INPUT"
    assert "--context" in outcome.json()["message"]
