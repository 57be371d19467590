"""docs/wire-api.md documents exactly the operations the wallet serves in /openapi.json:
each one has a heading ``### `METHOD /path` ``. Adding a route without documenting it,
or removing one the document still describes, fails here. What the document promises
for every operation (413 for an oversized body, 503 with `Retry-After` under overload)
is in each operation's `responses` too."""

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


def _openapi(wallet: Any) -> dict[str, Any]:
    with wallet.http() as client:
        answer = client.get("/openapi.json")
    assert answer.status_code == 200
    return dict(answer.json())


def test_every_served_operation_is_documented_and_nothing_else(wallet: Any) -> None:
    served = {
        (method.upper(), path)
        for path, operations in _openapi(wallet)["paths"].items()
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


def test_every_operation_lists_oversized_body_and_overload(wallet: Any) -> None:
    schema = _openapi(wallet)
    error_body = {"$ref": "#/components/schemas/ErrorBody"}
    operations = 0
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method not in HTTP_METHODS:
                continue
            operations += 1
            where = f"{method.upper()} {path}"
            responses = operation["responses"]
            assert {"413", "503"} <= set(responses), where
            for status in ("413", "503"):
                body = responses[status]["content"]["application/json"]["schema"]
                assert body == error_body, (where, status)
            retry_after = responses["503"]["headers"]["Retry-After"]
            assert retry_after["schema"]["type"] == "integer", where
    assert operations >= 18
    conventions = " ".join(DOC.read_text(encoding="utf-8").split("## Device login")[0].split())
    assert "every operation's `responses` in `/openapi.json` list 413 and 503" in conventions
