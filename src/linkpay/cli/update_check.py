"""Is a newer link-cli released? Asked of the package index's JSON API at most once a
day (the answer is cached in the user cache dir), with a short timeout, and never when
`NO_UPDATE_NOTIFIER=1` or `CI` is set. Any failure means "no news": an update check
never fails or noticeably slows a command. `LINK_UPDATE_INDEX_URL` points it at another
index (tests use a local one)."""

import json
import os
import time
from pathlib import Path
from typing import Any

PACKAGE = "linkpay"
DEFAULT_INDEX_URL = "https://pypi.org"
CHECK_EVERY_SECONDS = 24 * 3600
FAILED_RETRY_SECONDS = 3600
TIMEOUT_SECONDS = 1.5
UPDATE_COMMAND = f"pip install --upgrade {PACKAGE}"


def _disabled() -> bool:
    return bool(os.environ.get("NO_UPDATE_NOTIFIER") or os.environ.get("CI"))


def cache_file() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("link-cli")) / "update-check.json"


def _version_key(text: str) -> tuple[int, ...] | None:
    """`1.2.10` → (1, 2, 10); pre-releases and anything odd → None (never offered)."""
    parts = text.strip().split(".")
    if not parts or not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_cache(path: Path, data: dict[str, Any]) -> None:
    from linkpay.client.tokens import write_private_json

    try:
        write_private_json(path, data)
    except OSError:
        pass  # an unwritable cache only means asking again next time


def _fetch_latest() -> str | None:
    import httpx2

    base = (os.environ.get("LINK_UPDATE_INDEX_URL") or DEFAULT_INDEX_URL).rstrip("/")
    try:
        with httpx2.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = client.get(f"{base}/pypi/{PACKAGE}/json")
        if response.status_code != 200:
            return None
        version = response.json().get("info", {}).get("version")
    except (httpx2.HTTPError, ValueError, AttributeError, OSError):
        return None
    return version if isinstance(version, str) else None


def latest_version(now: float | None = None) -> str | None:
    """The newest released version, from the cache when it is fresh enough."""
    now = time.time() if now is None else now
    path = cache_file()
    cached = _read_cache(path)
    if cached is not None:
        age = now - float(cached.get("checked_at", 0))
        fresh_for = CHECK_EVERY_SECONDS if cached.get("latest") else FAILED_RETRY_SECONDS
        if 0 <= age < fresh_for:
            latest = cached.get("latest")
            return latest if isinstance(latest, str) else None
    latest = _fetch_latest()
    _write_cache(path, {"checked_at": now, "latest": latest})
    return latest


def update_info(current: str | None = None) -> dict[str, str] | None:
    """`{current_version, latest_version, update_command}` when a newer release exists."""
    if _disabled():
        return None
    if current is None:
        from linkpay import __version__

        current = __version__
    latest = latest_version()
    newer, installed = _version_key(latest or ""), _version_key(current)
    if latest is None or newer is None or installed is None or newer <= installed:
        return None
    return {
        "current_version": current,
        "latest_version": latest,
        "update_command": UPDATE_COMMAND,
    }
