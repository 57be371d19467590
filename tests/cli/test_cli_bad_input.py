"""Every invalid invocation exits 1 with {code, message} naming the problem, no
traceback, and — for locally invalid input — no network call: the wallet URL points at a
closed port, so a request would have surfaced as NETWORK_ERROR instead of INVALID_INPUT."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import CONTEXT

CARD = [
    "spend-request",
    "create",
    "-m",
    "Shop",
    "--merchant-url",
    "https://shop.example",
    "--context",
    CONTEXT,
]
SPT = [
    "spend-request",
    "create",
    "--credential-type",
    "shared_payment_token",
    "--context",
    CONTEXT,
    "--amount",
    "500",
]

CASES: list[tuple[str, list[str], str, str]] = [
    (
        "missing context",
        [
            "spend-request",
            "create",
            "-m",
            "S",
            "--merchant-url",
            "https://s.example",
            "--amount",
            "5",
        ],
        "INVALID_INPUT",
        "--context",
    ),
    ("short context", [*CARD[:-1], "too short", "--amount", "500"], "INVALID_INPUT", "--context"),
    ("missing amount", CARD, "INVALID_INPUT", "--amount"),
    ("amount zero", [*CARD, "--amount", "0"], "INVALID_INPUT", "--amount"),
    ("amount negative", [*CARD, "--amount", "-5"], "INVALID_INPUT", "--amount"),
    ("amount too big", [*CARD, "--amount", "50001"], "INVALID_INPUT", "--amount"),
    ("amount not a number", [*CARD, "--amount", "ten"], "INVALID_INPUT", "--amount"),
    ("amount with decimals", [*CARD, "--amount", "12.50"], "INVALID_INPUT", "--amount"),
    (
        "currency not three letters",
        [*CARD, "--amount", "500", "--currency", "US"],
        "INVALID_INPUT",
        "--currency",
    ),
    (
        "currency too long",
        [*CARD, "--amount", "500", "--currency", "usdd"],
        "INVALID_INPUT",
        "--currency",
    ),
    (
        "line item unknown key",
        [*CARD, "--amount", "500", "--line-item", "name:Mug,color:blue"],
        "INVALID_INPUT",
        "allowed keys: name, quantity",
    ),
    (
        "line item without name",
        [*CARD, "--amount", "500", "--line-item", "quantity:2"],
        "INVALID_INPUT",
        "--line-item #1: name is required",
    ),
    (
        "line item quantity not a number",
        [*CARD, "--amount", "500", "--line-item", "name:Mug,quantity:two"],
        "INVALID_INPUT",
        "quantity must be a whole number",
    ),
    (
        "line item not key:value",
        [*CARD, "--amount", "500", "--line-item", "just a mug"],
        "INVALID_INPUT",
        "--line-item: expected key:value",
    ),
    (
        "line item quantity zero",
        [*CARD, "--amount", "500", "--line-item", "name:Mug,quantity:0"],
        "INVALID_INPUT",
        "--line-item #1: quantity",
    ),
    (
        "card without merchant name",
        [
            "spend-request",
            "create",
            "--merchant-url",
            "https://s.example",
            "--amount",
            "500",
            "--context",
            CONTEXT,
        ],
        "INVALID_INPUT",
        "--merchant-name",
    ),
    (
        "card without merchant url",
        ["spend-request", "create", "-m", "Shop", "--amount", "500", "--context", CONTEXT],
        "INVALID_INPUT",
        "--merchant-url",
    ),
    (
        "merchant url not http",
        [
            "spend-request",
            "create",
            "-m",
            "Shop",
            "--merchant-url",
            "ftp://s.example",
            "--amount",
            "500",
            "--context",
            CONTEXT,
        ],
        "INVALID_INPUT",
        "--merchant-url",
    ),
    (
        "card with network id",
        [*CARD, "--amount", "500", "--network-id", "profile_1"],
        "INVALID_INPUT",
        "--network-id",
    ),
    ("SPT without network id", SPT, "INVALID_INPUT", "--network-id"),
    (
        "SPT with merchant name",
        [*SPT, "--network-id", "profile_1", "-m", "Shop"],
        "INVALID_INPUT",
        "--merchant-name",
    ),
    (
        "unknown credential type",
        [*CARD, "--amount", "500", "--credential-type", "cash"],
        "INVALID_INPUT",
        "--credential-type",
    ),
    (
        "total with unknown type",
        [*CARD, "--amount", "500", "--total", "type:grand,amount:500"],
        "INVALID_INPUT",
        "--total #1: type",
    ),
    (
        "total without amount",
        [*CARD, "--amount", "500", "--total", "type:total"],
        "INVALID_INPUT",
        "--total #1: amount is required",
    ),
    (
        "total differs from amount",
        [*CARD, "--amount", "500", "--total", "type:total,amount:900"],
        "INVALID_INPUT",
        "must equal amount",
    ),
    (
        "total unknown key",
        [*CARD, "--amount", "500", "--total", "type:tax,amount:5,rate:7"],
        "INVALID_INPUT",
        "allowed keys: type, display_text, amount",
    ),
    (
        "metadata without colon",
        [*CARD, "--amount", "500", "--metadata", "order42"],
        "INVALID_INPUT",
        "--metadata",
    ),
    (
        "metadata key too long",
        [*CARD, "--amount", "500", "--metadata", "k" * 41 + ":v"],
        "INVALID_INPUT",
        "--metadata",
    ),
    (
        "expires_at negative",
        [*CARD, "--amount", "500", "--expires-at", "-1"],
        "INVALID_INPUT",
        "--expires-at",
    ),
    ("unknown flag", ["spend-request", "list", "--bogus"], "INVALID_INPUT", "--bogus"),
    ("unknown command", ["spend-request", "approve", "lsrq_1"], "INVALID_INPUT", "Unknown command"),
    ("unknown group", ["wallet"], "INVALID_INPUT", "Unknown command"),
    ("retrieve without id", ["spend-request", "retrieve"], "INVALID_INPUT", "--id"),
    (
        "retrieve interval negative",
        ["spend-request", "retrieve", "lsrq_1", "--interval", "-1"],
        "INVALID_INPUT",
        "--interval",
    ),
    (
        "retrieve max attempts negative",
        ["spend-request", "retrieve", "lsrq_1", "--interval", "1", "--max-attempts", "-1"],
        "INVALID_INPUT",
        "--max-attempts",
    ),
    (
        "retrieve unknown include",
        ["spend-request", "retrieve", "lsrq_1", "--include", "cvc"],
        "INVALID_INPUT",
        "--include",
    ),
    (
        "retrieve negative timeout",
        ["spend-request", "retrieve", "lsrq_1", "--interval", "1", "--timeout", "-3"],
        "INVALID_INPUT",
        "--timeout",
    ),
    (
        "update with nothing to change",
        ["spend-request", "update", "lsrq_1"],
        "INVALID_INPUT",
        "Nothing to update",
    ),
    (
        "update amount zero",
        ["spend-request", "update", "lsrq_1", "--amount", "0"],
        "INVALID_INPUT",
        "--amount",
    ),
    (
        "update bad currency",
        ["spend-request", "update", "lsrq_1", "--currency", "dollars"],
        "INVALID_INPUT",
        "--currency",
    ),
    ("unknown format", ["spend-request", "list", "--format", "xml"], "INVALID_INPUT", "--format"),
    (
        "filter-output without value",
        ["spend-request", "list", "--filter-output"],
        "INVALID_INPUT",
        "--filter-output",
    ),
    (
        "report bad outcome",
        ["report", "--domain", "shop.example", "--outcome", "maybe"],
        "INVALID_INPUT",
        "--outcome",
    ),
    (
        "report freeform too long",
        [
            "report",
            "--domain",
            "shop.example",
            "--outcome",
            "blocked",
            "--spend-request-id",
            "lsrq_1",
            "--freeform-context",
            "x" * 501,
        ],
        "INVALID_INPUT",
        "--freeform-context",
    ),
    (
        "transactions limit zero",
        ["transactions", "list", "--limit", "0"],
        "INVALID_INPUT",
        "--limit",
    ),
    (
        "login interval negative",
        ["auth", "login", "--interval", "-2"],
        "INVALID_INPUT",
        "--interval",
    ),
    (
        "report without spend request",
        ["report", "--domain", "shop.example", "--outcome", "blocked"],
        "INVALID_INPUT",
        "--spend-request-id",
    ),
    (
        "report unknown tag",
        [
            *("report", "--domain", "shop.example", "--outcome", "blocked"),
            *("--spend-request-id", "lsrq_1", "--tag", "weather"),
        ],
        "INVALID_INPUT",
        "--tag",
    ),
    (
        "report step too long",
        [
            *("report", "--domain", "shop.example", "--outcome", "blocked"),
            *("--spend-request-id", "lsrq_1", "--step", "s" * 501),
        ],
        "INVALID_INPUT",
        "--step",
    ),
    (
        "filter output not a path",
        ["--filter-output", "[[[", "auth", "status"],
        "INVALID_INPUT",
        "--filter-output",
    ),
    (
        "output file empty",
        ["spend-request", "retrieve", "lsrq_1", "--include", "card", "--output-file", ""],
        "INVALID_INPUT",
        "--output-file",
    ),
    (
        "source action unknown",
        ["auth", "login", "--source-actions", "write_everything"],
        "INVALID_INPUT",
        "--source-actions",
    ),
    (
        "authorization detail not json",
        ["auth", "login", "--authorization-detail", "{nope"],
        "INVALID_INPUT",
        "--authorization-detail",
    ),
    (
        "execution method without account",
        [*CARD, "--amount", "500", "--execution-method", "link_pay_token"],
        "INVALID_INPUT",
        "--merchant-account-id",
    ),
]


def _check_error(outcome: Any, code: str, needle: str) -> dict[str, Any]:
    assert outcome.code == 1, outcome
    assert "Traceback" not in outcome.stdout + outcome.stderr
    try:
        error = outcome.json()
    except ValueError:  # the --format itself was the problem: the error is in toon
        import toon_format

        error = toon_format.loads(outcome.stdout)
    assert set(error) >= {"code", "message"}, error
    assert error["code"] == code, error
    assert needle in error["message"], error
    return error


@pytest.mark.parametrize(("name", "args", "code", "needle"), CASES, ids=[case[0] for case in CASES])
def test_invalid_invocation(cli: Any, name: str, args: list[str], code: str, needle: str) -> None:
    outcome = cli("--format", "json", *args, LINK_ACCESS_TOKEN="test-token-not-used")
    _check_error(outcome, code, needle)


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 30


def test_not_logged_in(cli: Any) -> None:
    _check_error(
        cli("spend-request", "list", "--format", "json"), "NOT_AUTHENTICATED", "auth login"
    )


def test_wallet_down(cli: Any) -> None:
    outcome = cli("spend-request", "retrieve", "lsrq_1", "--format", "json", LINK_ACCESS_TOKEN="t")
    _check_error(outcome, "NETWORK_ERROR", "Could not reach the wallet")


def test_output_file_exists(cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "card.json"
    target.write_text("keep me")
    outcome = cli(
        "spend-request",
        "retrieve",
        "lsrq_1",
        "--output-file",
        str(target),
        "--format",
        "json",
        LINK_ACCESS_TOKEN="t",
    )
    _check_error(outcome, "OUTPUT_FILE_EXISTS", str(target))
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("force", [False, True])
def test_output_file_symlink_refused(cli: Any, tmp_path: Path, force: bool) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "card.json"
    os.symlink(victim, link)
    args = ["spend-request", "retrieve", "lsrq_1", "--output-file", str(link), "--format", "json"]
    outcome = cli(*args, *(["--force"] if force else []), LINK_ACCESS_TOKEN="t")
    _check_error(outcome, "OUTPUT_FILE_SYMLINK", "symlink")
    assert victim.read_text() == "precious"


@pytest.mark.parametrize("fmt", ["toon", "yaml", "jsonl", "md"])
def test_errors_in_every_format(cli: Any, fmt: str) -> None:
    outcome = cli("spend-request", "create", "--amount", "0", "--format", fmt)
    assert outcome.code == 1
    assert (
        "INVALID_INPUT" in outcome.stdout
        and "--amount" in outcome.stdout
        or "--context" in outcome.stdout
    )


def test_real_entry_point_errors_without_traceback(cli_proc: Any) -> None:
    for args, code in [
        (["spend-request", "create", "--amount", "abc"], "INVALID_INPUT"),
        (["spend-request", "list"], "NOT_AUTHENTICATED"),
        (["no-such-command"], "INVALID_INPUT"),
    ]:
        outcome = cli_proc(*args, "--format", "json")
        assert outcome.code == 1
        assert "Traceback" not in outcome.stderr + outcome.stdout
        assert outcome.json()["code"] == code


def test_unexpected_exception_becomes_internal_error(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linkpay.cli.commands import spend_request

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret detail 4242424242424242")

    monkeypatch.setattr(spend_request, "parse_line_items", boom)
    outcome = cli(*CARD, "--amount", "500", "--format", "json")
    error = _check_error(outcome, "INTERNAL_ERROR", "internal error")
    assert "4242" not in outcome.stdout + outcome.stderr and "secret" not in error["message"]
