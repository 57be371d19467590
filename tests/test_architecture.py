"""The shape of the code: packages import downward only, no module grows past 400 lines,
and nothing points at documents a clone of this repository does not have.

The import graph is read from the source (ast), function-local imports included, so an
import hidden inside a function to dodge a cycle still counts. A "unit" is a top-level
package or module under `linkpay/` (`cli`, `wire`, `money`, ...), and under `wallet/`
each subpackage or module (`wallet.spend`, `wallet.errors`, ...).
"""

from __future__ import annotations

import ast
import fnmatch
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PACKAGE = SRC / "linkpay"
GENERATED = ("wallet/store/migrations/versions/",)  # Alembic writes these
MAX_MODULE_LINES = 400

# --- the layers, bottom to top ----------------------------------------------------------
# Each unit belongs to exactly one layer and may import units of its own layer and of the
# layers listed beside it. Anything else is an upward (or sideways) edge and fails.
NEUTRAL = [
    "linkpay",
    "argv",
    "canonical",
    "money",
    "text",
    "toon",
    "cards",
    "files",
    "formats",
    "serving",
    "public_url",
    "fastapi_startup",
    "startup_gc",
    "thread_hop",
]
WALLET_FOUNDATION = [
    "wallet",
    "wallet.errors",
    "wallet.ids",
    "wallet.crypto",
    "wallet.settings",
    "wallet.logging",
    "wallet.log_format",
    "wallet.binding",
]
WALLET_SERVICES = [
    "wallet.accounts",
    "wallet.connections",
    "wallet.addresses",
    "wallet.payment_methods",
    "wallet.profile",
    "wallet.activity",
    "wallet.receipts",
    "wallet.auth",
    "wallet.audit",
    "wallet.policy",
    "wallet.issuing",
    "wallet.spend",
    "wallet.decide",
    "wallet.notify",
    "wallet.jobs",
]
WALLET_EDGES = [
    "wallet.deps",  # the FastAPI dependencies every route uses
    "wallet.api",
    "wallet.web",
    "wallet.network",
    "wallet.webhooks",
    "wallet.body_limit",
    "wallet.overload",
    "wallet.rate_limits",
]
WALLET_ROOTS = ["wallet.app", "wallet.embedded", "wallet.admin"]

# layer name: (its units, what else it may import)
LAYERS: dict[str, tuple[list[str], list[str]]] = {
    # Neutral helpers import nothing of ours (but each other).
    "neutral": (NEUTRAL, []),
    # The wire models are the contract both sides share.
    "wire": (["wire"], NEUTRAL),
    "client": (["client"], ["wire", *NEUTRAL]),
    "mpp": (["mpp"], ["client", "wire", *NEUTRAL]),
    "merchant": (["merchant"], ["mpp", "wire", *NEUTRAL]),
    # The demo starts a wallet in-process, through its one public handle.
    "demo": (["demo"], ["client", "mpp", "merchant", "wallet.embedded", "wire", *NEUTRAL]),
    "cli": (["cli"], ["client", "mpp", "demo", "wire", *NEUTRAL]),
    # Inside the wallet: foundation -> store -> services -> edges (HTTP) -> roots.
    "wallet foundation": (WALLET_FOUNDATION, ["wire", *NEUTRAL]),
    "wallet store": (["wallet.store"], [*WALLET_FOUNDATION, "wire", *NEUTRAL]),
    "wallet services": (
        WALLET_SERVICES,
        ["wallet.store", *WALLET_FOUNDATION, "wire", *NEUTRAL],
    ),
    "wallet edges": (
        WALLET_EDGES,
        [*WALLET_SERVICES, "wallet.store", *WALLET_FOUNDATION, "wire", *NEUTRAL],
    ),
    "wallet roots": (
        WALLET_ROOTS,
        [*WALLET_EDGES, *WALLET_SERVICES, "wallet.store", *WALLET_FOUNDATION, "wire", *NEUTRAL],
    ),
}

# Within a layer, a few directions are fixed too: (importer, may not import, why).
NEVER: list[tuple[str, str, str]] = [
    ("wallet.issuing", "wallet.spend", "the issuers sit below the spend service"),
    ("wallet.issuing", "wallet.decide", "decisions call the issuers, not the reverse"),
    ("wallet.audit", "wallet.*", "every service records to the audit log"),
    ("wallet.policy", "wallet.spend", "the spend service asks the policy, not the reverse"),
    ("wallet.notify", "wallet.spend", "notifications are handed what to say"),
    ("wallet.api", "wallet.web", "the agent API and the person's pages are separate edges"),
    ("wallet.web", "wallet.api", "the agent API and the person's pages are separate edges"),
]
# Sideways exceptions to NEVER's wildcards: (importer, may import).
ALLOWED_WITHIN: list[tuple[str, str]] = [
    ("wallet.audit", "wallet.store"),
    ("wallet.audit", "wallet.logging"),
]

# --- reading the source -------------------------------------------------------------------


def _source_files() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if not any(part in path.relative_to(PACKAGE).as_posix() for part in GENERATED)
    )


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in _source_files()}


def unit_of(module: str) -> str:
    """`linkpay.wallet.spend.service` -> `wallet.spend`; `linkpay.cli.app` -> `cli`."""
    parts = module.split(".")[1:]
    if not parts:
        return "linkpay"
    if parts[0] == "wallet" and len(parts) > 1:
        return f"wallet.{parts[1]}"
    return parts[0]


def _resolve(name: str) -> str | None:
    """The module of ours that `name` (a module or a name in one) refers to."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> Iterable[tuple[str, int]]:
    """(imported module of ours, line) for every import in `module`, wherever it is."""
    path = MODULES[module]
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            # `from pkg import mod` imports pkg.mod; `from mod import name` imports mod.
            names = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            if name == "linkpay" or name.startswith("linkpay."):
                target = _resolve(name)
                if target is not None:
                    yield target, node.lineno


def unit_edges() -> dict[tuple[str, str], list[str]]:
    """(importer unit, imported unit) -> where (`module:line`), for edges between units."""
    edges: dict[tuple[str, str], list[str]] = {}
    for module in MODULES:
        for target, line in imports_of(module):
            a, b = unit_of(module), unit_of(target)
            if a != b:
                edges.setdefault((a, b), []).append(f"{module}:{line}")
    return edges


def _layer_of(unit: str) -> str | None:
    for layer, (units, _allowed) in LAYERS.items():
        if unit in units:
            return layer
    return None


def _matches(unit: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(unit, pattern)


# --- the tests ------------------------------------------------------------------------------


def test_every_unit_has_a_layer() -> None:
    units = {unit_of(module) for module in MODULES}
    unplaced = sorted(unit for unit in units if _layer_of(unit) is None)
    assert not unplaced, f"place these in LAYERS of {Path(__file__).name}: {unplaced}"


def test_imports_only_go_down_the_layers() -> None:
    problems = []
    for (a, b), where in sorted(unit_edges().items()):
        layer_a, layer_b = _layer_of(a), _layer_of(b)
        if layer_a is None or layer_b is None:
            continue  # reported by test_every_unit_has_a_layer
        own_units, allowed = LAYERS[layer_a]
        if b not in own_units and b not in allowed:
            problems.append(f"{a} ({layer_a}) -> {b} ({layer_b}) at {', '.join(where[:3])}")
    assert not problems, "upward or sideways imports:\n" + "\n".join(problems)


def test_fixed_directions_within_a_layer() -> None:
    problems = []
    for (a, b), where in sorted(unit_edges().items()):
        if (a, b) in ALLOWED_WITHIN:
            continue
        for importer, forbidden, why in NEVER:
            if _matches(a, importer) and _matches(b, forbidden):
                problems.append(f"{a} -> {b} ({why}) at {', '.join(where[:3])}")
    assert not problems, "\n".join(problems)


def _cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one unit (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_units() -> None:
    edges = unit_edges()
    cycles = _cycles(edges)
    detail = []
    for cycle in cycles:
        for (a, b), where in edges.items():
            if a in cycle and b in cycle:
                detail.append(f"  {a} -> {b} at {', '.join(where[:2])}")
    assert not cycles, f"import cycles: {cycles}\n" + "\n".join(detail)


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]) == [["a", "b", "c"]]
    assert _cycles([("a", "b"), ("b", "c")]) == []


def test_no_module_over_400_lines() -> None:
    long = {
        _module_name(path): lines
        for path in _source_files()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules (over {MAX_MODULE_LINES} lines): {long}"


# --- references to documents outside the repository -------------------------------------------
OUTSIDE_DOCUMENTS = re.compile(
    r"\.\./shared|agent-api\.md|stack-notes|CONTRACTS\.md|DEVELOPERS\.md|mpp-notes"
    r"|(?<![\w.])W[1-9]\b|\bworkstream"  # the labels of the parallel first build (W1..W9)
)


def _project_text_files() -> list[Path]:
    roots = [REPO / "src", REPO / "scripts", REPO / "docs", REPO / "bench", REPO / "tests"]
    files = [REPO / "README.md", REPO / "pyproject.toml"]
    for root in roots:
        if root.exists():
            files += [
                path
                for path in root.rglob("*")
                if path.is_file()
                and "__pycache__" not in path.parts
                and path.suffix not in {".pyc", ".png", ".ico", ".woff2", ".sqlite", ".db"}
            ]
    return [path for path in files if path.exists() and path != Path(__file__)]


def test_no_references_to_documents_outside_the_repository() -> None:
    hits = []
    for path in _project_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE_DOCUMENTS.search(line):
                hits.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:100]}")
    assert not hits, "say it in our own words instead:\n" + "\n".join(hits)


@pytest.mark.parametrize(
    "line",
    [
        "see ../shared/design.md",
        "as agent-api.md §4 says",
        "(stack-notes §3)",
        "see CONTRACTS.md",
        "# W3 owns this",
    ],
)
def test_outside_reference_pattern_catches(line: str) -> None:
    assert OUTSIDE_DOCUMENTS.search(line)
