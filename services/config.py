"""Service configuration from the environment (and CLI flags, which override it).

``TRAINLEDGER_DATA_DIR``      data directory (default ``./trainledger-data``): SQLite file,
                              admin token, device artifacts.
``TRAINLEDGER_DATABASE_URL``  ``postgresql://user[:password]@host[:port]/db[?schema=name]``
                              to use PostgreSQL instead of SQLite.
``TRAINLEDGER_ADMIN_TOKEN``   the admin's bearer token; when unset one is generated on first
                              start and kept in ``<data dir>/admin-token``.
``TRAINLEDGER_KAFKA_BOOTSTRAP`` ``host:port[,host:port]`` of a Kafka cluster: events go to the
                              topic and views are fed from it (default: in-process delivery).
``TRAINLEDGER_EVENTS_TOPIC``  the events topic (default ``trainledger.events``).
``TRAINLEDGER_MASTER_KEY``    base64 of 32 bytes: seals the key file (``keys/kek``) at rest.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

DEFAULT_DATA_DIR = "trainledger-data"


class ConfigError(ValueError):
    """The configuration cannot be used (bad URL, unwritable directory...)."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None = None
    admin_token: str | None = None
    kafka_bootstrap: str | None = None
    events_topic: str = "trainledger.events"
    master_key: str | None = None

    @classmethod
    def from_env(
        cls, data_dir: str | os.PathLike[str] | None = None, kafka: str | None = None
    ) -> Settings:
        return cls(
            data_dir=Path(data_dir or os.environ.get("TRAINLEDGER_DATA_DIR") or DEFAULT_DATA_DIR),
            database_url=os.environ.get("TRAINLEDGER_DATABASE_URL") or None,
            admin_token=os.environ.get("TRAINLEDGER_ADMIN_TOKEN") or None,
            kafka_bootstrap=kafka or os.environ.get("TRAINLEDGER_KAFKA_BOOTSTRAP") or None,
            events_topic=os.environ.get("TRAINLEDGER_EVENTS_TOPIC") or "trainledger.events",
            master_key=os.environ.get("TRAINLEDGER_MASTER_KEY") or None,
        )

    @property
    def backend(self) -> str:
        return "postgres" if self.database_url else "sqlite"

    def store_env(self) -> dict[str, str]:
        """The ``eventsourcing`` environment for the configured event store."""
        if not self.database_url:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.data_dir / "trainledger.sqlite3"),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        return postgres_env(self.database_url)

    def ensure_admin_token(self) -> tuple[str, str]:
        """The admin token and where it comes from (generated into the data dir if needed)."""
        if self.admin_token:
            return self.admin_token, "TRAINLEDGER_ADMIN_TOKEN"
        path = self.data_dir / "admin-token"
        if path.exists():
            return path.read_text().strip(), str(path.resolve())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        token = "tla_" + secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        return token, str(path.resolve())


def postgres_env(url: str) -> dict[str, str]:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgresql", "postgres") or not parsed.path.strip("/"):
        raise ConfigError(
            "TRAINLEDGER_DATABASE_URL must look like postgresql://user@host:5432/dbname"
        )
    schema = parse_qs(parsed.query).get("schema", [""])[0]
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parsed.path.strip("/"),
        "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": unquote(parsed.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parsed.password or ""),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "10",
        "POSTGRES_MAX_OVERFLOW": "20",
    }
