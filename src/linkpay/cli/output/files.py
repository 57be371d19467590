"""Writing credentials to a file the agent names (`--output-file`), safely.

Every directory on the path is opened one by one from `/` with O_NOFOLLOW, so a
symlink anywhere on the path (not only the last component) is refused: a planted
`dirlink -> /etc` cannot redirect the card. The file itself is created inside the
last directory's descriptor by `linkpay.files` (O_EXCL, O_NOFOLLOW, mode 0600), so it never
overwrites something by surprise and is never readable by others. `--force` replaces
an existing *regular* file (unlinked first, then created exclusively); a symlink is
refused even with `--force`.
"""

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

from linkpay.cli.context import CommandError
from linkpay.files import create_private_file

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def _symlink_error(target: Path, where: str) -> CommandError:
    return CommandError(
        "OUTPUT_FILE_SYMLINK",
        f"Refusing to write {target}: {where} is a symlink (symlinks are refused anywhere "
        "on the path)",
    )


def _open_parent(target: Path) -> int:
    """A descriptor of the file's directory, reached without following any symlink."""
    parts = target.parent.parts
    fd = os.open(parts[0], _DIR_FLAGS)
    walked = Path(parts[0])
    try:
        for part in parts[1:]:
            walked = walked / part
            try:
                next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(part, fd):
                    raise _symlink_error(target, str(walked)) from None
                if exc.errno == errno.ENOENT:
                    raise CommandError(
                        "OUTPUT_FILE_WRITE_ERROR",
                        f"Cannot write {target}: directory {walked} does not exist",
                    ) from None
                raise CommandError(
                    "OUTPUT_FILE_WRITE_ERROR", f"Cannot write {target}: {exc.strerror}"
                ) from None
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False


def _existing(target: Path, dir_fd: int) -> os.stat_result | None:
    try:
        return os.lstat(target.name, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CommandError(
            "OUTPUT_FILE_WRITE_ERROR", f"Cannot write {target}: {exc.strerror}"
        ) from None


def _check_existing(target: Path, info: os.stat_result | None, force: bool) -> None:
    if info is None:
        return
    if stat.S_ISLNK(info.st_mode):
        raise _symlink_error(target, "it")
    if not force:
        raise CommandError(
            "OUTPUT_FILE_EXISTS",
            f"{target} already exists; choose a new path or pass --force to replace it",
        )
    if not stat.S_ISREG(info.st_mode):
        raise CommandError(
            "OUTPUT_FILE_WRITE_ERROR", f"Refusing to replace {target}: not a regular file"
        )


def _target(path: str | os.PathLike[str]) -> Path:
    text = os.fspath(path)
    if not text.strip():
        raise CommandError("INVALID_INPUT", "--output-file is empty; give a file path")
    target = Path(os.path.abspath(text))
    if not target.name or text.endswith(os.sep):
        raise CommandError("INVALID_INPUT", f"--output-file {text!r} names a directory")
    return target


def check_writable(path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Everything `write_secret_file` would refuse, checked before any network call."""
    target = _target(path)
    dir_fd = _open_parent(target)
    try:
        _check_existing(target, _existing(target, dir_fd), force)
    finally:
        os.close(dir_fd)
    return target


def write_secret_file(path: str | os.PathLike[str], data: Any, *, force: bool = False) -> Path:
    target = _target(path)
    dir_fd = _open_parent(target)
    try:
        info = _existing(target, dir_fd)
        _check_existing(target, info, force)
        if info is not None:
            try:
                os.unlink(target.name, dir_fd=dir_fd)
            except OSError as exc:
                raise CommandError(
                    "OUTPUT_FILE_WRITE_ERROR", f"Cannot replace {target}: {exc.strerror}"
                ) from None
        content = (json.dumps(data, indent=2) + "\n").encode("utf-8")
        try:
            created = create_private_file(target.name, content, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _symlink_error(target, "it") from None
            raise CommandError(
                "OUTPUT_FILE_WRITE_ERROR", f"Cannot write {target}: {exc.strerror}"
            ) from None
        if not created:
            # Appeared between our check and the create: treat like any existing path.
            if _is_link(target.name, dir_fd):
                raise _symlink_error(target, "it")
            raise CommandError("OUTPUT_FILE_EXISTS", f"{target} already exists")
    finally:
        os.close(dir_fd)
    return target
