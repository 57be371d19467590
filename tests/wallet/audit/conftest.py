"""Fixtures for the audit log tests (helpers live in audit_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from audit_helpers import Store


@pytest.fixture(scope="module")
def store(database_url: str) -> Iterator[Store]:
    opened = Store(database_url)
    yield opened
    opened.close()
