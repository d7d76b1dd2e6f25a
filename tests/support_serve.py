"""`trainledger serve` in a process of its own, for the tests of what it prints and answers."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from ingest.local_broker import free_port
from services.config import Settings


@dataclass
class Served:
    url: str
    banner: str  # what `serve` printed before it answered


@contextmanager
def serving(settings: Settings, *args: str) -> Iterator[Served]:
    """Run ``trainledger serve --port P ARGS`` on ``settings``' store until it answers
    ``/health``; stopped (SIGTERM) afterwards."""
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "TRAINLEDGER_ADMIN_TOKEN": settings.admin_token or "x"}
    if settings.database_url:
        env["TRAINLEDGER_DATABASE_URL"] = settings.database_url
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "--data-dir", str(settings.data_dir), "serve",
         "--port", str(port), *args], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout is not None
        banner = ""
        while not banner.splitlines()[-1:] or not banner.splitlines()[-1].startswith("admin"):
            line = process.stdout.readline()
            assert line, f"serve stopped: {banner}"
            banner += line
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, banner
            assert time.monotonic() < deadline, "serve did not answer in 60 s"
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield Served(url, banner)
    finally:
        process.terminate()
        process.communicate(timeout=30)
