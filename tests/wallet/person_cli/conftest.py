"""Fixtures for the `link-wallet` person-command tests (helpers in person_cli_helpers)."""

from __future__ import annotations

from typing import Any

import pytest
from person_cli_helpers import email

from linkpay.wallet.admin import main


@pytest.fixture
def run(wallet: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """`run(*argv) -> (exit_code, stdout, stderr)` on the wallet's database and keys."""
    monkeypatch.setenv("LINKPAY_DATA_DIR", str(wallet.settings.data_dir))
    monkeypatch.setenv("LINKPAY_DATABASE_URL", wallet.settings.database_url)
    monkeypatch.setenv("LINKPAY_PUBLIC_URL", wallet.settings.public_url)

    def invoke(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def someone(wallet: Any) -> tuple[str, str]:
    """(user id, email) of a fresh person with the test Visa."""
    address = email()
    user_id = wallet.create_user(address, "Grace Hopper")
    wallet.add_test_card(user_id)
    return user_id, address
