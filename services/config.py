"""Service configuration from the environment (and CLI flags, which override it).

``TRAINLEDGER_DATA_DIR``      data directory (default ``./trainledger-data``): SQLite file,
                              admin token, device artifacts.
``TRAINLEDGER_DATABASE_URL``  ``postgresql://user[:password]@host[:port]/db[?schema=name]``
                              to use PostgreSQL instead of SQLite.
``TRAINLEDGER_ADMIN_TOKEN``   the admin's bearer token; when unset one is generated on first
                              start and kept in ``<data dir>/admin-token``.
``TRAINLEDGER_KAFKA_BOOTSTRAP`` ``host:port[,host:port]`` of a Kafka cluster: events go to the
                              topic and views are fed from it (default: in-process delivery).
``TRAINLEDGER_NAMESPACE``     prefix of every Kafka topic and consumer group (default
                              ``trainledger``): deployments sharing a cluster each take one.
``TRAINLEDGER_EVENTS_TOPIC``  the events topic (default ``<namespace>.events``).
``TRAINLEDGER_ALLOWED_HOSTS`` comma-separated host names the API answers to (``Host`` header;
                              default ``127.0.0.1,localhost,testserver``; ``*`` for any).
``TRAINLEDGER_QUOTA_BYTES``   storage per athlete: stored device files and queued uploads
                              (default 2 GiB).
``TRAINLEDGER_MAX_FIT_FILE``  the largest device file read, per file (default 16 MiB; an
                              upload or ``trainledger import`` rejects a larger one unread).
``TRAINLEDGER_ARCHIVE_MAX_ENTRIES`` / ``TRAINLEDGER_ARCHIVE_MAX_ENTRY`` /
``TRAINLEDGER_ARCHIVE_MAX_TOTAL``  bounds of an export archive (``trainledger import
                              EXPORT.zip``): entries, nested archives included (default
                              200000); decompressed bytes of one entry, a nested archive held
                              in memory (default 2 GiB); decompressed bytes read in all
                              (default 32 GiB).
``TRAINLEDGER_QUARANTINE_BYTES`` / ``TRAINLEDGER_QUARANTINE_DAYS``  bound of the quarantine of
                              rejected files (default 200 MiB, 30 days; oldest go first).
``TRAINLEDGER_WRITE_RATE`` / ``TRAINLEDGER_WRITE_BURST``  writes and uploads per token: refill
                              per minute and bucket size (default 600 and 120; 429 beyond).
``TRAINLEDGER_MASTER_KEY``    base64 of 32 bytes: seals the key file (``keys/kek``) at rest.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

DEFAULT_DATA_DIR = "trainledger-data"
#: the loopback names, and the name the test client sends
DEFAULT_ALLOWED_HOSTS = ("127.0.0.1", "localhost", "testserver")
MIB = 1024 * 1024
DEFAULT_NAMESPACE = "trainledger"
TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]+")
TOPIC_MAX = 249  # Kafka's limit on a topic name
NAMESPACE_MAX = 200  # leaves room for the longest suffix (".projection.<view>")


class ConfigError(ValueError):
    """The configuration cannot be used (bad URL, unwritable directory...)."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None = None
    admin_token: str | None = None
    kafka_bootstrap: str | None = None
    events_topic: str = ""  # "": the namespace's, ``<namespace>.events``
    namespace: str = DEFAULT_NAMESPACE
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    quota_bytes: int = 2048 * MIB
    max_fit_file: int = 16 * MIB
    archive_max_entries: int = 200_000
    archive_max_entry: int = 2048 * MIB
    archive_max_total: int = 32 * 1024 * MIB
    quarantine_bytes: int = 200 * MIB
    quarantine_days: int = 30
    write_rate: int = 600  # per minute and token (the admin's token is not limited)
    write_burst: int = 120

    master_key: str | None = None

    def __post_init__(self) -> None:
        check_kafka_name("TRAINLEDGER_NAMESPACE", self.namespace, NAMESPACE_MAX)
        if not self.events_topic:
            object.__setattr__(self, "events_topic", f"{self.namespace}.events")
        check_kafka_name("TRAINLEDGER_EVENTS_TOPIC", self.events_topic, TOPIC_MAX)

    @classmethod
    def from_env(
        cls, data_dir: str | os.PathLike[str] | None = None, kafka: str | None = None
    ) -> Settings:
        return cls(
            data_dir=Path(data_dir or os.environ.get("TRAINLEDGER_DATA_DIR") or DEFAULT_DATA_DIR),
            database_url=os.environ.get("TRAINLEDGER_DATABASE_URL") or None,
            admin_token=os.environ.get("TRAINLEDGER_ADMIN_TOKEN") or None,
            kafka_bootstrap=kafka or os.environ.get("TRAINLEDGER_KAFKA_BOOTSTRAP") or None,
            events_topic=os.environ.get("TRAINLEDGER_EVENTS_TOPIC") or "",
            namespace=os.environ.get("TRAINLEDGER_NAMESPACE") or DEFAULT_NAMESPACE,
            allowed_hosts=tuple(h.strip() for h in os.environ.get(
                "TRAINLEDGER_ALLOWED_HOSTS", "").split(",") if h.strip()) or DEFAULT_ALLOWED_HOSTS,
            quota_bytes=_positive("TRAINLEDGER_QUOTA_BYTES", cls.quota_bytes),
            max_fit_file=_positive("TRAINLEDGER_MAX_FIT_FILE", cls.max_fit_file),
            archive_max_entries=_positive("TRAINLEDGER_ARCHIVE_MAX_ENTRIES",
                                          cls.archive_max_entries),
            archive_max_entry=_positive("TRAINLEDGER_ARCHIVE_MAX_ENTRY", cls.archive_max_entry),
            archive_max_total=_positive("TRAINLEDGER_ARCHIVE_MAX_TOTAL", cls.archive_max_total),
            quarantine_bytes=_positive("TRAINLEDGER_QUARANTINE_BYTES", cls.quarantine_bytes),
            quarantine_days=_positive("TRAINLEDGER_QUARANTINE_DAYS", cls.quarantine_days),
            write_rate=_positive("TRAINLEDGER_WRITE_RATE", cls.write_rate),
            write_burst=_positive("TRAINLEDGER_WRITE_BURST", cls.write_burst),
            master_key=os.environ.get("TRAINLEDGER_MASTER_KEY") or None,
        )

    @property
    def intake_topic(self) -> str:
        """The topic of import requests; the intake workers' consumer group has its name."""
        return f"{self.namespace}.intake"

    @property
    def projection_group(self) -> str:
        """Prefix of the views' consumer groups (``<namespace>.projection.<view>``)."""
        return f"{self.namespace}.projection."

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


def masked_url(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***`` (for printing)."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    user = f"{parsed.username}:***@" if parsed.username else ":***@"
    return parsed._replace(netloc=user + parsed.netloc.rpartition("@")[2]).geturl()


def _positive(name: str, default: int) -> int:
    """A positive whole number from the environment variable ``name``, else ``default``."""
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(f"{name} must be a positive whole number, not {raw!r}")
    return value


def check_kafka_name(variable: str, value: str, longest: int) -> None:
    """Raise ConfigError unless ``value`` can name Kafka topics (and groups)."""
    if not TOPIC_NAME.fullmatch(value) or value in (".", ".."):
        raise ConfigError(f"{variable} {value!r}: use only letters, digits, '.', '_' and '-' "
                          "(Kafka topic names)")
    if len(value) > longest:
        raise ConfigError(f"{variable} is {len(value)} characters long; at most {longest} "
                          "(Kafka topic names end at 249)")


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
