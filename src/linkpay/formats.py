"""The five machine output formats both CLIs share (toon default, json, yaml, md, jsonl),
`--filter-output`, and conversion of results to plain, sanitized JSON data.

Neutral: imports nothing of ours but `linkpay.text` and `linkpay.toon`, so `link-cli` and
`link-wallet` both use it without depending on each other. Heavy libraries load only when
used.
"""

from __future__ import annotations

import json

from linkpay.text import sanitize_deep

TYPE_CHECKING = False  # `typing` costs link-cli's fast paths ~9 ms
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("toon", "json", "yaml", "md", "jsonl")


def to_data(result: Any) -> Any:
    """Pydantic models → JSON data (None fields dropped); lists/dicts recursively."""
    if hasattr(result, "model_dump"):
        return result.model_dump(mode="json", exclude_none=True)
    if isinstance(result, dict):
        return {key: to_data(value) for key, value in result.items()}
    if isinstance(result, (list, tuple)):
        return [to_data(item) for item in result]
    return result


def prepare(result: Any, filter_paths: list[str] | None = None) -> Any:
    """Everything that must happen before any format: JSON data, sanitized, filtered."""
    data = sanitize_deep(to_data(result))
    if filter_paths:
        data = filter_output(data, filter_paths)
    return data


def filter_output(data: Any, paths: list[str]) -> Any:
    """Keep only the given dotted key paths (`a,b.c`); lists are filtered per item."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for part in [p for p in path.strip().split(".") if p]:
            node = node.setdefault(part, {})
    return _apply_filter(data, tree) if tree else data


def _apply_filter(data: Any, tree: dict[str, Any]) -> Any:
    if isinstance(data, list):
        return [_apply_filter(item, tree) for item in data]
    if not isinstance(data, dict):
        return data
    kept: dict[str, Any] = {}
    for key, subtree in tree.items():
        if key in data:
            kept[key] = _apply_filter(data[key], subtree) if subtree else data[key]
    return kept


def render(data: Any, fmt: str) -> str:
    """Text of already-prepared data in one format (no trailing newline)."""
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False)
    if fmt == "jsonl":
        items = data if isinstance(data, list) else [data]
        return "\n".join(
            json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in items
        )
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).rstrip("\n")
    if fmt == "md":
        return render_markdown(data)
    from linkpay.toon import Unsure, dumps

    try:
        return dumps(data)  # the common shapes, without importing toon_format (~45 ms)
    except Unsure:
        import toon_format

        return toon_format.dumps(data)


def _md_cell(value: Any) -> str:
    if value is None:
        text = ""
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def _md_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |"]
    lines.append("|" + "|".join(" --- " for _ in header) + "|")
    lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(data: Any) -> str:
    """A table per list of objects, a field/value table per object."""
    if isinstance(data, list):
        if not data:
            return "_(none)_"
        if all(isinstance(item, dict) for item in data):
            columns: list[str] = []
            for item in data:
                columns += [key for key in item if key not in columns]
            return _md_table(columns, [[item.get(col) for col in columns] for item in data])
        return "\n".join(f"- {_md_cell(item)}" for item in data)
    if isinstance(data, dict):
        return _md_table(["field", "value"], [[key, value] for key, value in data.items()])
    return _md_cell(data)
