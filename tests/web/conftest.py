"""Fixtures for the web app tests (the `browser` itself is in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

OUTPUT_DIR = Path(__file__).resolve().parents[2] / "test-output"


@pytest.fixture
def output_dir() -> Path:
    OUTPUT_DIR.mkdir(exist_ok=True)
    return OUTPUT_DIR
