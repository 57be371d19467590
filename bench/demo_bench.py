"""Wall time of the whole non-interactive demo, as a user runs it.

Runs `link-cli demo --yes --format json` as a subprocess on a clean environment (no
LINK_*/LINKPAY_* variables, fresh HOME/XDG dirs) — embedded wallet start with
migrations, test person, demo merchant, agent login, the card flow and the SPT flow,
and shutdown — and reports the wall time of each run, split into phases by the time
each narration line reaches stderr (start-up, setup, card flow, SPT flow, shutdown).

    .venv/bin/python bench/demo_bench.py            # 3 runs
    .venv/bin/python bench/demo_bench.py --runs 5
    .venv/bin/python bench/demo_bench.py --runs 5 --baseline-src /tmp/base/src

Each run also reports the process's CPU time (user+sys, from wait4): on a shared box
the steadier figure. `--baseline-src DIR` runs every round a second time with
`PYTHONPATH=DIR` (the `src` of another checkout), alternating, so both see the same load.
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


def clean_env(root: Path, src: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINK_", "LINKPAY_", "XDG_"))}
    env.pop("PYTHONPATH", None)
    if src:
        env["PYTHONPATH"] = src
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


def one_run(src: str | None = None) -> tuple[float, float, dict[str, float], bool]:
    """One demo; returns wall time, CPU time, seconds per phase (from stderr line
    times), success."""
    with tempfile.TemporaryDirectory(prefix="demo-bench-") as root:
        env = clean_env(Path(root), src)
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
        _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
    ok = process.returncode == 0 and json.loads(out or "{}").get("succeeded") is True
    if not ok:
        print(out, "".join(lines), file=sys.stderr)
    phases, previous = {}, 0.0
    for name, _ in PHASES:
        at = marks.get(name, previous)
        phases[name] = at - previous
        previous = at
    phases["shutdown + exit"] = wall - previous
    return wall, cpu, phases, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-src", help="also run with PYTHONPATH=DIR, interleaved")
    args = parser.parse_args()
    variants: list[tuple[str, str | None]] = [("this checkout", None)]
    if args.baseline_src:
        variants.append((f"baseline {args.baseline_src}", args.baseline_src))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    walls: dict[str, list[float]] = {label: [] for label, _ in variants}
    cpus: dict[str, list[float]] = {label: [] for label, _ in variants}
    per_phase: dict[str, dict[str, list[float]]] = {label: {} for label, _ in variants}
    for index in range(1, args.runs + 1):
        for label, src in variants:
            wall, cpu, phases, ok = one_run(src)
            detail = ", ".join(f"{name} {seconds:.2f}" for name, seconds in phases.items())
            print(
                f"run {index} [{label}]: {wall:.2f} s wall, {cpu:.2f} s CPU ({detail}) "
                f"{'ok' if ok else 'FAILED'}"
            )
            if not ok:
                return 1
            walls[label].append(wall)
            cpus[label].append(cpu)
            for name, seconds in phases.items():
                per_phase[label].setdefault(name, []).append(seconds)
    for label, _ in variants:
        values = walls[label]
        print(
            f"demo --yes [{label}] over {len(values)} runs: wall median "
            f"{statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f}); "
            f"CPU median {statistics.median(cpus[label]):.2f} s "
            f"(min {min(cpus[label]):.2f}, max {max(cpus[label]):.2f})"
        )
        for name, phase_values in per_phase[label].items():
            print(f"  {name:<24} median {statistics.median(phase_values):.2f} s")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
