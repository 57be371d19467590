"""Where the agent's token file is and how it is read: `--auth FILE`, `LINK_AUTH_FILE`
or the user config dir; a symlink, a non-regular file or one readable by group/others
is refused. Light on purpose (no dataclasses, typing or platformdirs unless the default
path is needed): link-cli's fast retrieve reads the file through this too, and
`tokens.TokenStore` builds its `Tokens` from what `read_token_file` returns.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from linkpay.client.errors import NotAuthenticated

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

AUTH_FILE_NAME = "auth.json"
EXPIRY_MARGIN_SECONDS = 30


def default_auth_file() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("link-cli")) / AUTH_FILE_NAME


def auth_file_from_env(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--auth FILE` wins, then `LINK_AUTH_FILE`, then the platform config dir."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("LINK_AUTH_FILE")
    return Path(env) if env else default_auth_file()


def read_token_file(path: Path) -> dict[str, Any] | None:
    """The file's JSON object; None when there is no file; NotAuthenticated when it may
    not or cannot be read."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise NotAuthenticated(f"Cannot read the auth file {path}: {exc.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise NotAuthenticated(f"Refusing to read the auth file {path}: it is a symlink")
    if not stat.S_ISREG(info.st_mode):
        raise NotAuthenticated(f"Refusing to read the auth file {path}: not a regular file")
    if info.st_mode & 0o077:
        raise NotAuthenticated(
            f"Refusing to read the auth file {path}: it is readable by other users "
            f"(run: chmod 600 {path})"
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


def unreadable(path: Path) -> NotAuthenticated:
    return NotAuthenticated(f"The auth file {path} is unreadable; run `link-cli auth login` again")
