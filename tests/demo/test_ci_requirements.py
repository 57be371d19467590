"""CI must not pass by skipping: without chromium, tmux or Redis, the tests that need
them skip on a developer machine but fail when `.ci/run`'s LINKPAY_REQUIRE_BROWSER=1 /
LINKPAY_REQUIRE_TMUX=1 / LINKPAY_REQUIRE_REDIS=1 are set. Runs pytest on one real test
each, in a subprocess that cannot find the tool (Redis: a URL nothing listens on)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BROWSER_TEST = "tests/web/test_contrast.py::test_collector_measures_what_a_reader_sees"
TMUX_TEST = "tests/demo/test_onboard.py::test_onboard_logs_in_lists_cards_and_offers_the_demo"
REDIS_TEST = (
    "tests/wallet/capacity/test_redis_limits.py::"
    "test_two_processes_count_phrase_guesses_together_in_redis"
)


def run_pytest(node: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LINKPAY_REQUIRE_", "PYTEST_"))
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            node,
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "pytest_timeout",
            "-rs",
        ],
        cwd=ROOT,
        env={
            **clean,
            "PATH": str(tmp_path),
            "LINKPAY_CHROMIUM": str(tmp_path / "none"),
            "LINKPAY_TEST_REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            # No third-party plugins (hypothesis, schemathesis, …): a tenth of the start-up.
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("node", "variable", "tool"),
    [
        (BROWSER_TEST, "LINKPAY_REQUIRE_BROWSER", "chromium"),
        (TMUX_TEST, "LINKPAY_REQUIRE_TMUX", "tmux"),
        (REDIS_TEST, "LINKPAY_REQUIRE_REDIS", "Redis"),
    ],
)
def test_missing_tool_skips_locally_and_fails_in_ci(
    node: str, variable: str, tool: str, tmp_path: Path
) -> None:
    local = run_pytest(node, tmp_path)
    assert local.returncode == 0, local.stdout + local.stderr
    assert " skipped" in local.stdout and "passed" not in local.stdout and tool in local.stdout
    ci = run_pytest(node, tmp_path, **{variable: "1"})
    assert ci.returncode == 1, ci.stdout + ci.stderr
    assert " error" in ci.stdout and "skipped" not in ci.stdout  # fails in setup
    assert f"{variable}=1" in ci.stdout
