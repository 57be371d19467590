"""Private files (keys, tokens, credentials written on request): mode 0600 from the
first byte, never through a symlink planted at the path, never clobbering by surprise.

`create_private_file` is for "create once, then reuse" files (keys): O_CREAT|O_EXCL, so
when two processes race, one wins and the other uses the winner's file.
`replace_private_file` is for files that change (the token store): a private temporary
file in the same directory, fsynced, then renamed over the old one, so a reader sees the
old or the new contents, never half. Imports nothing of ours.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
_CREATE_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW


def create_private_file(
    path: str | os.PathLike[str], data: bytes, *, dir_fd: int | None = None
) -> bool:
    """Create `path` (mode 0600; relative to `dir_fd` if given) holding `data`. False,
    writing nothing, when something already exists there; other OS errors (ELOOP for a
    symlink, EACCES, ENOSPC, ...) propagate."""
    try:
        fd = os.open(path, _CREATE_NEW, PRIVATE_FILE_MODE, dir_fd=dir_fd)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return True


def replace_private_file(path: Path, data: bytes) -> None:
    """Atomically replace `path` with `data` (mode 0600), creating its directory 0700."""
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = directory / f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp"
    fd = os.open(temp, _CREATE_NEW, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
