"""Owner-only file modes for what the wallet keeps on disk.

The data directory holds the card key, the pepper and (by default) the SQLite database:
under a usual umask of 022 they would be readable by every local user. The directory
is kept at 0700 and the database at 0600. SQLite gives its `-wal` and `-shm` files the
mode of the database file, so creating the database 0600 before SQLite opens it covers
them; existing installs are tightened when the wallet starts.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from linkpay.files import create_private_file

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def secure_directory(path: Path) -> None:
    """Create `path` 0700, or tighten it when it is ours and open to others. A shared
    directory (sticky bit, like /tmp) or one owned by someone else is left alone."""
    path = path.expanduser()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass
        return
    _tighten(path, DIR_MODE, directory=True)


def secure_sqlite_file(database: Path) -> None:
    """Create the database file 0600 before SQLite opens it (so its WAL/SHM files
    inherit 0600), and tighten an existing database and its side files."""
    database = database.expanduser()
    if not database.parent.exists():
        secure_directory(database.parent)
    create_private_file(database, b"")
    for suffix in ("", *SQLITE_SIDE_FILES):
        side = Path(str(database) + suffix)
        if side.exists():
            _tighten(side, FILE_MODE, directory=False)


def _tighten(path: Path, mode: int, *, directory: bool) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
        return
    if directory and (not stat.S_ISDIR(info.st_mode) or info.st_mode & stat.S_ISVTX):
        return
    if stat.S_IMODE(info.st_mode) & ~mode:
        os.chmod(path, stat.S_IMODE(info.st_mode) & mode)
