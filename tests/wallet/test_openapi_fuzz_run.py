"""bench/fuzz_api.py, small: schemathesis' CLI over the whole /openapi.json (its
coverage phase, boundary values of every parameter, plus a little fuzzing) against a
real `link-wallet serve`, authenticated as an agent (and as a merchant on the test
network): no server errors, no failed checks, about 1,900 cases in 25 s.

SQLite only, to stay fast: the in-process schemathesis tests of the core, spend and
network routes run on both databases, and the full run (>= 5,000 cases, SQLite and
PostgreSQL) is by hand: bench/README.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.only_database("sqlite")
@pytest.mark.timeout(300)
def test_small_fuzz_run_finds_no_server_errors(database_url: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "bench/fuzz_api.py",
            "--database-url",
            database_url,
            "--max-examples",
            "3",
            "--min-cases",
            "1000",
            "--phases",
            "coverage,fuzzing",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-3000:]
    summary = re.search(r"(\d[\d,]*) cases, [\d,]+ requests over (\d+) operations", done.stdout)
    assert summary, done.stdout[-3000:]
    assert int(summary.group(1).replace(",", "")) >= 1000
    assert int(summary.group(2)) >= 21  # every operation of /openapi.json was called
    assert "server errors: 0; failed checks: 0" in done.stdout
