"""Writing credentials to a file the agent names (`--output-file`), safely.

The file is created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600, so it never
overwrites something by surprise, is never readable by others, and a symlink planted
at the path is never followed. `--force` replaces an existing *regular* file (the old
one is unlinked first, then the new one is created exclusively); a symlink is refused
even with `--force`.
"""

import json
import os
import stat
from pathlib import Path
from typing import Any

from linkpay.cli.registry import CommandError


def write_secret_file(path: str | os.PathLike[str], data: Any, *, force: bool = False) -> Path:
    target = Path(path)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise CommandError(
            "OUTPUT_FILE_WRITE_ERROR", f"Cannot write {target}: {exc.strerror}"
        ) from None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise CommandError(
                "OUTPUT_FILE_SYMLINK", f"Refusing to write {target}: it is a symlink"
            )
        if not force:
            raise CommandError(
                "OUTPUT_FILE_EXISTS",
                f"{target} already exists; choose a new path or pass --force to replace it",
            )
        if not stat.S_ISREG(info.st_mode):
            raise CommandError(
                "OUTPUT_FILE_WRITE_ERROR", f"Refusing to replace {target}: not a regular file"
            )
        try:
            os.unlink(target)
        except OSError as exc:
            raise CommandError(
                "OUTPUT_FILE_WRITE_ERROR", f"Cannot replace {target}: {exc.strerror}"
            ) from None
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        # Appeared between our check and the create: treat like any existing path.
        try:
            is_link = stat.S_ISLNK(os.lstat(target).st_mode)
        except OSError:
            is_link = False
        if is_link:
            raise CommandError(
                "OUTPUT_FILE_SYMLINK", f"Refusing to write {target}: it is a symlink"
            ) from None
        raise CommandError("OUTPUT_FILE_EXISTS", f"{target} already exists") from None
    except OSError as exc:
        code = "OUTPUT_FILE_SYMLINK" if exc.errno == 40 else "OUTPUT_FILE_WRITE_ERROR"  # ELOOP
        raise CommandError(code, f"Cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
    except OSError as exc:
        raise CommandError(
            "OUTPUT_FILE_WRITE_ERROR", f"Cannot write {target}: {exc.strerror}"
        ) from None
    return target.resolve()
