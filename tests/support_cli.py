"""Running the command line as a user would: a subprocess with the store in the environment."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator

from services.config import Settings


def run_cli(settings: Settings, *args: str, cwd: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    """``python -m services.cli ARGS`` on the settings' store (its data dir or database)."""
    env = {**os.environ, "TRAINLEDGER_ADMIN_TOKEN": settings.admin_token or ""}
    env.pop("TRAINLEDGER_DATABASE_URL", None)
    env.pop("TRAINLEDGER_DATA_DIR", None)
    if settings.data_dir is not None:
        env["TRAINLEDGER_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["TRAINLEDGER_DATABASE_URL"] = settings.database_url
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def parsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every parser of the command line, with its command path."""
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from parsers(sub)
