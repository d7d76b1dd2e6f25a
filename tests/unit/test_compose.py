"""`infra/compose.yaml` publishes nothing beyond the host's loopback: the API speaks plain HTTP
and Kafka has no authentication, so reaching them from the network takes a TLS proxy and SASL
(infra/README.md), not an open port."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml  # PyYAML, installed with the dev tools (schemathesis needs it)

COMPOSE = Path(__file__).parents[2] / "infra" / "compose.yaml"
LOOPBACK = "127.0.0.1"


def host_ip(port: Any) -> str | None:
    """The host address a published port binds (None: every interface)."""
    if isinstance(port, dict):  # long syntax: {target, published, host_ip}
        return port.get("host_ip")
    parts = str(port).rsplit("/", 1)[0].split(":")  # [HOST_IP:][HOST_PORT:]CONTAINER_PORT
    return ":".join(parts[:-2]) or None


def test_the_parser_reads_every_port_syntax() -> None:
    assert host_ip("8000:8000") is None
    assert host_ip("8000") is None
    assert host_ip("127.0.0.1:8000:8000/tcp") == LOOPBACK
    assert host_ip("[::1]:8000:8000") == "[::1]"
    assert host_ip({"target": 8000, "published": 8000, "host_ip": LOOPBACK}) == LOOPBACK
    assert host_ip({"target": 8000, "published": 8000}) is None


def test_every_published_port_binds_the_loopback_only() -> None:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    published = {name: service.get("ports", []) for name, service in services.items()}
    assert published["api"], "the API is published"
    assert {name: [p for p in ports if host_ip(p) != LOOPBACK]
            for name, ports in published.items()} == {name: [] for name in services}


def test_every_projection_worker_feeds_a_view_that_exists() -> None:
    from projections.registry import all_views

    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    fed = [name for service in services.values()
           if (command := service.get("command", []))[:2] == ["trainledger", "project"]
           for name in command[2:]]
    assert sorted(fed) == sorted(all_views())  # every view fed, and no retired one
