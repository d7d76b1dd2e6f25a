"""Running the command line as a user would: a subprocess with the store in the environment."""

from __future__ import annotations

import argparse
import errno
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from services.config import Settings

CLI = [sys.executable, "-m", "services.cli"]


def cli_env(settings: Settings) -> dict[str, str]:
    """This environment with the settings' store (its data dir or database, the master key)
    in place."""
    env = {**os.environ, "TRAINLEDGER_ADMIN_TOKEN": settings.admin_token or ""}
    for name, value in (("TRAINLEDGER_DATA_DIR", settings.data_dir),
                        ("TRAINLEDGER_DATABASE_URL", settings.database_url),
                        ("TRAINLEDGER_MASTER_KEY", settings.master_key)):
        env.pop(name, None)
        if value:
            env[name] = str(value)
    return env


def run_cli(settings: Settings, *args: str, cwd: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    """``python -m services.cli ARGS`` on the settings' store, its output into pipes."""
    return subprocess.run([*CLI, *args], env=cli_env(settings), cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def run_on_terminal(settings: Settings, *args: str, timeout: float = 300,
                    ) -> subprocess.CompletedProcess[str]:
    """:func:`run_cli` with its standard error on a pseudo-terminal, as in a user's shell
    (standard output still a pipe); ``stderr`` is what the terminal showed."""
    master, terminal = os.openpty()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([*CLI, *args], env=cli_env(settings), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=terminal)
        os.close(terminal)  # the child holds the only other end: its exit ends the reads
        shown = bytearray()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not select.select([master], [], [], 1)[0]:
                    continue
                try:
                    chunk = os.read(master, 4096)
                except OSError as exc:  # EIO: the terminal's other end is closed
                    if exc.errno != errno.EIO:
                        raise
                    break
                if not chunk:
                    break
                shown += chunk
            returncode = proc.wait(timeout=max(deadline - time.monotonic(), 1))
        finally:
            os.close(master)
            if proc.poll() is None:
                proc.kill()
        out.seek(0)
        return subprocess.CompletedProcess(proc.args, returncode, out.read().decode(),
                                           shown.decode())


def parsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every parser of the command line, with its command path."""
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from parsers(sub)
