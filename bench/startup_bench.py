"""Start-up latency of the two long-running entry points (run by hand; never by tests).

    .venv/bin/python bench/startup_bench.py            # 5 runs each
    .venv/bin/python bench/startup_bench.py --runs 10 --only mcp

- `mcp`: `link-cli --mcp` spawned fresh; time until its answer to `initialize`, then
  until `tools/list` answers (the moment an MCP host can show the tools).
- `serve`: `link-wallet serve` on a fresh SQLite file in a new data dir; time until
  it answers HTTP at all (`GET /`, any status: migrations, owner, sign-in link, app
  import and uvicorn are behind it).

Each figure is the median (min–max) of wall time, plus the child's CPU time (user+sys)
from wait4: on a shared box CPU time is the steadier figure. Compare runs made under
the same load (the load average is printed), or let the bench interleave the two:
`--baseline-src DIR` also runs every measurement with `PYTHONPATH=DIR` (the `src` of
another checkout, e.g. `git worktree add --detach /tmp/base main`), alternating runs.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent


def _clean_env(root: Path, src: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINK_", "LINKPAY_"))}
    env.pop("PYTHONPATH", None)
    if src:
        env["PYTHONPATH"] = src
    env.update(
        HOME=str(root),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_CACHE_HOME=str(root / "cache"),
        NO_UPDATE_NOTIFIER="1",
    )
    return env


def _cpu(proc: subprocess.Popen[bytes]) -> float:
    _pid, _status, usage = os.wait4(proc.pid, 0)
    return usage.ru_utime + usage.ru_stime


def _rpc(proc: subprocess.Popen[bytes], message: dict[str, object]) -> dict[str, object]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(message).encode() + b"\n")
    proc.stdin.flush()
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("link-cli --mcp exited before answering")
        answer: dict[str, object] = json.loads(line)
        if answer.get("id") == message.get("id"):
            return answer


def mcp_once(root: Path, src: str | None = None) -> tuple[float, float, float]:
    env = _clean_env(root, src)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "link-cli"), "--mcp"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "startup-bench", "version": "0"},
        },
    }
    answer = _rpc(proc, init)
    initialized = time.perf_counter() - started
    assert "result" in answer, answer
    assert proc.stdin is not None
    proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    tools = _rpc(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    listed = time.perf_counter() - started
    assert tools.get("result", {}).get("tools"), tools  # type: ignore[union-attr]
    proc.stdin.close()
    cpu = _cpu(proc)
    return initialized, listed, cpu


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_once(root: Path, src: str | None = None) -> tuple[float, float]:
    env = _clean_env(root, src)
    port = _free_port()
    env.update(LINKPAY_DATA_DIR=str(root / "wallet"), LINKPAY_PORT=str(port))
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "link-wallet"), "serve", "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"link-wallet serve exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=5):
                    break
            except urllib.error.HTTPError:
                break  # an HTTP answer (a redirect to sign in, a 404): it is serving
            except OSError:
                time.sleep(0.005)
        elapsed = time.perf_counter() - started
    finally:
        proc.terminate()
    return elapsed, _cpu(proc)


def _report(label: str, values: list[float]) -> str:
    return (
        f"{label} median {statistics.median(values) * 1000:.0f} ms "
        f"({min(values) * 1000:.0f}–{max(values) * 1000:.0f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=("mcp", "serve"))
    parser.add_argument("--baseline-src", help="also run with PYTHONPATH=DIR, interleaved")
    args = parser.parse_args()
    variants: list[tuple[str, str | None]] = [("this checkout", None)]
    if args.baseline_src:
        variants.append((f"baseline {args.baseline_src}", args.baseline_src))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.only in (None, "mcp"):
        mcp: dict[str, list[tuple[float, float, float]]] = {label: [] for label, _ in variants}
        for _label, src in variants:
            with tempfile.TemporaryDirectory() as tmp:
                mcp_once(Path(tmp), src)  # warm the page cache
        for _ in range(args.runs):
            for label, src in variants:
                with tempfile.TemporaryDirectory() as tmp:
                    mcp[label].append(mcp_once(Path(tmp), src))
        for label, rows in mcp.items():
            print(
                f"link-cli --mcp [{label}]: "
                + _report("initialize", [r[0] for r in rows])
                + "; "
                + _report("tools/list", [r[1] for r in rows])
                + "; "
                + _report("cpu", [r[2] for r in rows])
            )
    if args.only in (None, "serve"):
        serve: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in variants}
        for _ in range(args.runs):
            for label, src in variants:
                with tempfile.TemporaryDirectory() as tmp:
                    serve[label].append(serve_once(Path(tmp), src))
        for label, rows2 in serve.items():
            print(
                f"link-wallet serve, fresh SQLite [{label}]: "
                + _report("first answer", [r[0] for r in rows2])
                + "; "
                + _report("cpu until stopped", [r[1] for r in rows2])
            )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
