"""Card numbers and CVCs never sit in the database in plaintext and never reach the
logs, through a whole flow: create → approve → retrieve with include=card → charge."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from network_helpers import Flow, Merchant, charge_body
from sqlalchemy import MetaData, select

from linkpay.wallet.logging import install_redaction


def _database_text(wallet: Any) -> str:
    """Every row of every table, as text."""
    engine = wallet.app.state.engine
    metadata = MetaData()
    metadata.reflect(engine)
    chunks: list[str] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            chunks.extend(repr(tuple(row)) for row in conn.execute(select(table)))
    return "\n".join(chunks)


def _sqlite_bytes(database_url: str) -> bytes:
    path = Path(database_url.removeprefix("sqlite:///"))
    return b"".join(
        candidate.read_bytes()
        for candidate in (path, path.with_name(path.name + "-wal"))
        if candidate.exists()
    )


def _cvc_patterns(cvc: str) -> re.Pattern[str]:
    # A 3-digit CVC occurs by chance in any large text; what must never occur is a CVC
    # labelled as one (JSON, form, repr, key=value).
    return re.compile(rf"cvc\W{{0,4}}{cvc}\b", re.IGNORECASE)


def test_full_flow_leaks_nothing(
    flow: Flow, shop: Merchant, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    install_redaction()  # as `link-wallet serve` does
    caplog.set_level(logging.DEBUG)  # everything, SQLAlchemy statements and parameters too
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    spend_request_id, card = flow.approved_card()
    number, cvc = card["number"], card["cvc"]
    logging.getLogger("linkpay.test").info("agent got card %s cvc=%s", number, cvc)
    with flow.wallet.http() as client:
        charged = client.post(
            "/v1/test_network/card_charges",
            json=charge_body(card),
            headers=shop.headers(**{"Idempotency-Key": "leak-check"}),
        )
        declined = client.post(
            "/v1/test_network/card_charges", json=charge_body(card), headers=shop.headers()
        )
    assert charged.status_code == 200 and declined.status_code == 402
    assert flow.get(spend_request_id)["status"] == "succeeded"
    assert number not in charged.text + declined.text

    logs = caplog.text
    assert "UPDATE credentials" in logs and "secret_ciphertext" in logs  # we saw the SQL
    spaced = " ".join(number[i : i + 4] for i in range(0, 16, 4))
    assert number not in logs and spaced not in logs
    assert not _cvc_patterns(cvc).search(logs)

    dump = _database_text(flow.wallet)
    assert number not in dump and not _cvc_patterns(cvc).search(dump)
    assert card["number"][-4:] in dump  # last4 is kept on purpose (display)
    if database_url.startswith("sqlite"):
        raw = _sqlite_bytes(database_url)
        assert raw and number.encode() not in raw
        assert not re.search(rb"cvc\W{0,4}" + cvc.encode() + rb"\b", raw)
