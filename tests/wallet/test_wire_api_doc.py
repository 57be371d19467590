"""docs/wire-api.md documents exactly the operations the wallet serves in /openapi.json:
each one has a heading ``### `METHOD /path` ``. Adding a route without documenting it,
or removing one the document still describes, fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "wire-api.md"
HEADING = re.compile(r"^#{2,4} `(GET|POST|PUT|PATCH|DELETE) (/\S*)`\s*$", re.MULTILINE)
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def documented_operations(text: str) -> list[tuple[str, str]]:
    return [(method, path) for method, path in HEADING.findall(text)]


def test_heading_pattern_reads_operations() -> None:
    text = "## Intro\n### `POST /device/code`\ntext `GET /nope` inline\n#### `GET /a/{id}`\n"
    assert documented_operations(text) == [("POST", "/device/code"), ("GET", "/a/{id}")]


def test_every_served_operation_is_documented_and_nothing_else(wallet: Any) -> None:
    with wallet.http() as client:
        answer = client.get("/openapi.json")
    assert answer.status_code == 200
    served = {
        (method.upper(), path)
        for path, operations in answer.json()["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }
    documented = documented_operations(DOC.read_text(encoding="utf-8"))
    assert len(documented) == len(set(documented)), "an operation is documented twice"
    missing = sorted(served - set(documented))
    stale = sorted(set(documented) - served)
    assert not missing, f"served but not in docs/wire-api.md: {missing}"
    assert not stale, f"in docs/wire-api.md but not served: {stale}"
    assert len(served) >= 18  # the contract as of this test; it only grows
