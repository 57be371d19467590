"""Where the agent's tokens live: a JSON file (mode 0600) in the user config dir, or
the environment.

The file is written atomically: a temporary file created with
O_CREAT|O_EXCL|O_NOFOLLOW (mode 0600) in the same directory, fsynced, then renamed over
the old one, so a crash never leaves half a token file and a planted symlink is never
followed. Reading (and refusing symlinks or files readable by group/others) is
`token_file.py`'s.

`LINK_ACCESS_TOKEN` / `LINK_REFRESH_TOKEN` override the file (tokens refreshed from them
stay in memory). `LINK_NO_REFRESH` disables refresh.
"""

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linkpay.client.token_file import EXPIRY_MARGIN_SECONDS, read_token_file, unreadable
from linkpay.files import replace_private_file

if TYPE_CHECKING:
    from linkpay.wire import TokenResponse


@dataclass
class Tokens:
    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None  # unix seconds
    token_type: str = "Bearer"
    scope: str | None = None
    authorization_details: list[dict[str, Any]] | None = None
    client_name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def expired(self, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (now or time.time()) >= self.expires_at - EXPIRY_MARGIN_SECONDS

    @classmethod
    def from_token_response(
        cls, response: "TokenResponse", *, client_name: str | None = None
    ) -> "Tokens":
        return cls(
            access_token=response.access_token,
            refresh_token=response.refresh_token,
            expires_at=time.time() + response.expires_in if response.expires_in else None,
            token_type=response.token_type or "Bearer",
            scope=response.scope,
            authorization_details=response.authorization_details,
            client_name=client_name,
        )

    def __repr__(self) -> str:  # never print a token by accident
        return f"Tokens(scope={self.scope!r}, expires_at={self.expires_at!r})"


class TokenStore:
    """Loads and saves `Tokens`. With env tokens, nothing is read from or written to disk."""

    def __init__(self, path: Path, *, env: dict[str, str] | None = None) -> None:
        self.path = path
        env = dict(os.environ) if env is None else env
        self.refresh_enabled = not env.get("LINK_NO_REFRESH")
        access = env.get("LINK_ACCESS_TOKEN")
        self._env_tokens = (
            Tokens(access_token=access, refresh_token=env.get("LINK_REFRESH_TOKEN") or None)
            if access
            else None
        )

    @property
    def from_env(self) -> bool:
        return self._env_tokens is not None

    def load(self) -> Tokens | None:
        if self._env_tokens is not None:
            return self._env_tokens
        data = read_token_file(self.path)
        if data is None:
            return None
        known = {name for name in Tokens.__dataclass_fields__ if name != "extra"}
        try:
            return Tokens(
                **{key: value for key, value in data.items() if key in known},
                extra={key: value for key, value in data.items() if key not in known},
            )
        except TypeError:  # no access_token
            raise unreadable(self.path) from None

    def save(self, tokens: Tokens) -> None:
        if self._env_tokens is not None:
            self._env_tokens = tokens
            return
        data = asdict(tokens)
        data.update(data.pop("extra") or {})
        write_private_json(self.path, data)

    @contextmanager
    def refresh_lock(self) -> Iterator[None]:
        """Serialize refreshes across link-cli processes sharing this token file: the
        refresh token rotates, so two processes refreshing with the same one would have
        the second refused (and the session possibly revoked as a replay)."""
        if self._env_tokens is not None:
            yield
            return
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def delete(self) -> bool:
        if self._env_tokens is not None:
            self._env_tokens = None
            return False
        try:
            os.unlink(self.path)
            return True
        except FileNotFoundError:
            return False


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Atomically replace `path` with `data` as JSON, mode 0600, never following links."""
    replace_private_file(path, json.dumps(data, indent=2).encode("utf-8"))
