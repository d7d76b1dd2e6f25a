"""Helpers for the tests of the files trainledger reads and writes: a usual umask, every
path's mode, a file that is not FIT, the CLI in a process of its own."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.config import Settings


@contextmanager
def usual_umask() -> Iterator[None]:
    """Run under umask 022 (files 0644, folders 0755: readable by everyone), as most users do;
    the previous umask is put back afterwards."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes(root: Path) -> dict[str, str]:
    """``root`` and every path under it (symlinks left out) -> its mode in octal."""
    found = {str(root): oct(stat.S_IMODE(root.stat().st_mode))}
    for path in sorted(root.rglob("*")):
        if not path.is_symlink():
            found[str(path)] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


def not_private(root: Path) -> dict[str, str]:
    """The paths under ``root`` that anyone but their owner may read, write or enter."""
    return {path: mode for path, mode in modes(root).items()
            if int(mode, 8) & 0o077}


def loosen(root: Path) -> None:
    """Give ``root`` the modes of a store made before: folders 0755, files 0644."""
    root.chmod(0o755)
    for path in root.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


def invalid_fit(folder: Path, name: str = "broken.fit") -> Path:
    """A small file named like a FIT file that is not one (a FIT header with bad content)."""
    path = folder / name
    path.write_bytes(b"\x0e\x10\x00\x00\x20\x00\x00\x00.FIT" + b"\xff" * 40)
    return path


def cli_command(settings: Settings, *args: str, **env: str
                ) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of ``trainledger --data-dir D ARGS`` on the store ``settings``
    names (the admin token is the data directory's file unless ``settings`` gives one);
    ``env`` adds variables."""
    environ = {"PATH": "/usr/bin:/bin", **env}
    if settings.admin_token:
        environ["TRAINLEDGER_ADMIN_TOKEN"] = settings.admin_token
    if settings.database_url:
        environ["TRAINLEDGER_DATABASE_URL"] = settings.database_url
    return [sys.executable, "-m", "services.cli", "--data-dir", str(settings.data_dir),
            *args], environ


def run_cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run :func:`cli_command` to its end."""
    argv, environ = cli_command(settings, *args, **env)
    return subprocess.run(argv, env=environ, capture_output=True, text=True, timeout=120,
                          check=False)
