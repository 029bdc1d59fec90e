"""Small filesystem helpers shared by the node's on-disk files."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: Path, data: bytes, mode: int = 0o600, *, replace: bool = True) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one.

    The bytes go to a fresh temporary file in the same directory (created exclusively, with
    exactly ``mode``), are fsynced, then renamed onto ``path``; the directory is fsynced so the
    rename itself survives a power cut. With ``replace=False`` an existing ``path`` is never
    touched: the temporary file is hard-linked into place, which fails atomically with
    ``FileExistsError`` if ``path`` appeared in the meantime.
    """
    directory = path.parent
    tmp = directory / f".{path.name}.{os.urandom(6).hex()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            os.fchmod(fd, mode)  # the umask must not change the mode we asked for
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            os.unlink(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories cannot be opened)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        dir_fd = os.open(directory, flags)
    except OSError:  # e.g. Windows: no fsync of directories
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
