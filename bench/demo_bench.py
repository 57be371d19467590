"""Wall time of the whole non-interactive demo, as a user runs it.

Runs `link-cli demo --yes --format json` as a subprocess on a clean environment (no
LINK_*/LINKPAY_* variables, fresh HOME/XDG dirs) — embedded wallet start with
migrations, test person, demo merchant, agent login, the card flow and the SPT flow,
and shutdown — and reports the wall time of each run, split into phases by the time
each narration line reaches stderr (start-up, setup, card flow, SPT flow, shutdown).

    .venv/bin/python bench/demo_bench.py            # 3 runs
    .venv/bin/python bench/demo_bench.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LINK_CLI = str(Path(sys.executable).parent / "link-cli")


def clean_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINK_", "LINKPAY_", "XDG_"))}
    for name in ("home", "config", "data", "cache", "tmp"):
        (root / name).mkdir()
    env.update(
        HOME=str(root / "home"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_CACHE_HOME=str(root / "cache"),
        TMPDIR=str(root / "tmp"),
        NO_UPDATE_NOTIFIER="1",
    )
    return env


PHASES = (
    ("start-up", "== linkpay demo"),
    ("wallet + merchant setup", "Demo merchant:"),
    ("card flow", "== Machine payment"),
    ("SPT flow", "== Done"),
)


def one_run() -> tuple[float, dict[str, float], bool]:
    """One demo; returns wall time, seconds per phase (from stderr line times), success."""
    with tempfile.TemporaryDirectory(prefix="demo-bench-") as root:
        env = clean_env(Path(root))
        started = time.perf_counter()
        process = subprocess.Popen(
            [LINK_CLI, "demo", "--yes", "--format", "json"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None and process.stdout is not None
        marks: dict[str, float] = {}
        lines = []
        for line in process.stderr:
            lines.append(line)
            for name, marker in PHASES:
                if name not in marks and marker in line:
                    marks[name] = time.perf_counter() - started
        out = process.stdout.read()
        process.wait()
        wall = time.perf_counter() - started
    ok = process.returncode == 0 and json.loads(out or "{}").get("succeeded") is True
    if not ok:
        print(out, "".join(lines), file=sys.stderr)
    phases, previous = {}, 0.0
    for name, _ in PHASES:
        at = marks.get(name, previous)
        phases[name] = at - previous
        previous = at
    phases["shutdown + exit"] = wall - previous
    return wall, phases, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    walls: list[float] = []
    per_phase: dict[str, list[float]] = {}
    for index in range(1, args.runs + 1):
        wall, phases, ok = one_run()
        detail = ", ".join(f"{name} {seconds:.2f}" for name, seconds in phases.items())
        print(f"run {index}: {wall:.2f} s wall ({detail}) {'ok' if ok else 'FAILED'}")
        if not ok:
            return 1
        walls.append(wall)
        for name, seconds in phases.items():
            per_phase.setdefault(name, []).append(seconds)
    print(
        f"demo --yes wall time over {len(walls)} runs: median {statistics.median(walls):.2f} s, "
        f"min {min(walls):.2f} s, max {max(walls):.2f} s"
    )
    for name, values in per_phase.items():
        print(f"  {name:<24} median {statistics.median(values):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
