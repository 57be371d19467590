"""The neutral helpers at `linkpay/` level (money, text, files): the behaviour the wallet,
merchant, demo and CLI rely on when they share them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from linkpay.files import create_private_file, replace_private_file
from linkpay.money import currency_exponent, format_figures, format_money
from linkpay.text import clean_text, has_control_characters, one_line


@pytest.mark.parametrize(
    ("amount", "currency", "plain", "shown"),
    [
        (2599, "usd", "25.99 USD", "$25.99 USD"),
        (1500, "jpy", "1500 JPY", "¥1,500 JPY"),
        (12345, "kwd", "12.345 KWD", "12.345 KWD"),
        (-5, "eur", "-0.05 EUR", "−€0.05 EUR"),
    ],
)
def test_money_follows_the_currency_exponent(
    amount: int, currency: str, plain: str, shown: str
) -> None:
    assert format_figures(amount, currency) == plain
    assert format_money(amount, currency) == shown


def test_currency_exponent_ignores_case() -> None:
    assert [currency_exponent(c) for c in ("USD", "jpy", "KWD")] == [2, 0, 3]


def test_one_line_drops_escapes_controls_and_line_breaks() -> None:
    assert one_line("Acme\x1b[2J\r\nShop\t\u202eevil") == "AcmeShopevil"
    assert one_line("Café Ünïcode") == "Café Ünïcode"


@pytest.mark.parametrize("text", ["a\x00b", "line\nbreak", "esc\x1b", "c1\x9b", "tab\t"])
def test_has_control_characters(text: str) -> None:
    assert has_control_characters(text)


def test_plain_text_has_no_control_characters() -> None:
    assert not has_control_characters("Claude on a laptop (ü, 中文)")


def test_clean_text_shows_none_as_empty_and_keeps_newlines() -> None:
    assert clean_text(None) == ""
    assert clean_text("two\nlines\x07") == "two\nlines"
    assert clean_text(42) == "42"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_create_private_file_is_0600_and_never_clobbers(tmp_path: Path) -> None:
    os.umask(0o022)
    path = tmp_path / "key"
    assert create_private_file(path, b"first") is True
    assert _mode(path) == 0o600
    assert create_private_file(path, b"second") is False
    assert path.read_bytes() == b"first"


def test_create_private_file_refuses_a_planted_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    link = tmp_path / "key"
    link.symlink_to(target)
    assert create_private_file(link, b"secret") is False  # the link exists: not followed
    assert not target.exists()


def test_replace_private_file_is_atomic_0600_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "auth.json"
    replace_private_file(path, b"one")
    replace_private_file(path, b"two")
    assert path.read_bytes() == b"two"
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["auth.json"]


def test_replace_private_file_failure_leaves_no_temp_behind(tmp_path: Path) -> None:
    taken = tmp_path / "auth.json"
    taken.mkdir()  # a directory where the file should go: the rename fails
    with pytest.raises(OSError):
        replace_private_file(taken, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["auth.json"]
    assert taken.is_dir()
