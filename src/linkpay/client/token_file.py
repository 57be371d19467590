"""Where the agent's token file is and how it is read: `--auth FILE`, `LINK_AUTH_FILE`
or the user config dir; a symlink, a non-regular file or one readable by group/others
is refused. Light on purpose (no dataclasses, typing, and pathlib or platformdirs only
when needed; pathlib with urllib.parse and ipaddress is ~6 ms of CPU): link-cli's fast
retrieve reads the file through this too, and `tokens.TokenStore` builds its `Tokens`
from what `read_token_file` returns.
"""

from __future__ import annotations

import json
import os
import stat
import sys

from linkpay.client.errors import NotAuthenticated

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

AUTH_FILE_NAME = "auth.json"
EXPIRY_MARGIN_SECONDS = 30


def default_auth_file() -> Path:
    from pathlib import Path

    from platformdirs import user_config_dir

    return Path(user_config_dir("link-cli")) / AUTH_FILE_NAME


def auth_file_from_env(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--auth FILE` wins, then `LINK_AUTH_FILE`, then the platform config dir."""
    from pathlib import Path

    if explicit:
        return Path(explicit)
    env = os.environ.get("LINK_AUTH_FILE")
    return Path(env) if env else default_auth_file()


def auth_file_path(explicit: str | os.PathLike[str] | None = None) -> str | Path:
    """`auth_file_from_env(explicit)`, but as text (no pathlib or platformdirs import)
    when that text is what pathlib would print: no empty or `.` parts, no trailing slash."""
    given = os.fspath(explicit) if explicit else os.environ.get("LINK_AUTH_FILE")
    text = given or _linux_default_auth_file()
    if text and text != "." and "." not in text.split("/")[1:] and "//" not in text:
        if not text.endswith("/") and not text.startswith("./"):
            return text
    return auth_file_from_env(explicit)


def _linux_default_auth_file() -> str | None:
    """`default_auth_file()` on Linux as platformdirs finds it — `$XDG_CONFIG_HOME` when
    absolute, else `$HOME/.config` when HOME is absolute — or None (ask platformdirs:
    another platform, Android, no usable HOME). A test compares the two."""
    if sys.platform != "linux" or hasattr(sys, "getandroidapilevel"):
        return None
    if os.environ.get("ANDROID_DATA") or os.environ.get("ANDROID_ROOT"):
        return None
    base = os.environ.get("XDG_CONFIG_HOME", "")
    if not base.startswith("/"):
        home = os.environ.get("HOME", "")
        if not home.startswith("/"):
            return None
        base = home.rstrip("/") + "/.config"
    return f"{base}/link-cli/{AUTH_FILE_NAME}"


def _shown(path: str | os.PathLike[str]) -> str:
    """The path as messages show it (pathlib's spelling, as `TokenStore.path` has)."""
    from pathlib import Path

    return str(Path(path))


def read_token_file(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The file's JSON object; None when there is no file; NotAuthenticated when it may
    not or cannot be read."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise NotAuthenticated(
            f"Cannot read the auth file {_shown(path)}: {exc.strerror}"
        ) from None
    if stat.S_ISLNK(info.st_mode):
        raise NotAuthenticated(f"Refusing to read the auth file {_shown(path)}: it is a symlink")
    if not stat.S_ISREG(info.st_mode):
        raise NotAuthenticated(f"Refusing to read the auth file {_shown(path)}: not a regular file")
    if info.st_mode & 0o077:
        raise NotAuthenticated(
            f"Refusing to read the auth file {_shown(path)}: it is readable by other users "
            f"(run: chmod 600 {_shown(path)})"
        )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "r", encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        data = None
    if type(data) is not dict:
        raise unreadable(path)
    return data


def unreadable(path: str | os.PathLike[str]) -> NotAuthenticated:
    return NotAuthenticated(
        f"The auth file {_shown(path)} is unreadable; run `link-cli auth login` again"
    )
