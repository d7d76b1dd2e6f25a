"""Everything trainledger writes is private to its user: files 0600, folders 0700.

The data directory holds each athlete's key beside the ciphertext: readable by another local
user, it would let them decrypt every event.  :func:`make_process_private` sets the umask once
the runtime opens, :func:`tighten` fixes a tree written before (an old data directory, a backup
copied from one), :func:`write_private` writes one file whatever the umask.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
UMASK = 0o077


def make_process_private() -> None:
    """From now on, files and folders this process creates are its user's only."""
    os.umask(UMASK)


def _tighten_one(path: str | Path, mode: int, want: int) -> bool:
    if stat.S_IMODE(mode) & ~want == 0:
        return False
    try:
        os.chmod(path, stat.S_IMODE(mode) & want)
    except PermissionError:  # another user's file (a shared volume): theirs to protect
        return False
    return True


def tighten(root: Path) -> list[Path]:
    """Take group and other permissions off ``root`` and everything under it (symlinks are
    neither followed nor changed); returns the paths changed.  A missing ``root`` is fine."""
    try:
        top = root.stat()
    except FileNotFoundError:
        return []
    changed: list[Path] = []
    if not stat.S_ISDIR(top.st_mode):
        return [root] if _tighten_one(root, top.st_mode, FILE_MODE) else []
    if _tighten_one(root, top.st_mode, DIR_MODE):
        changed.append(root)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                continue  # removed while we walked
            if stat.S_ISLNK(info.st_mode):
                continue
            want = DIR_MODE if stat.S_ISDIR(info.st_mode) else FILE_MODE
            if _tighten_one(path, info.st_mode, want):
                changed.append(Path(path))
    return changed


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700 folders; an existing one is tightened."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten_one(path, path.stat().st_mode, DIR_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` as a 0600 file, never through a symlink placed there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), FILE_MODE)  # it may have existed with a wider mode
        out.write(data)
