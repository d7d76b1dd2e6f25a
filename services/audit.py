"""The audit trail of one athlete: every event of their aggregates, who recorded it and when.

The athlete's aggregates (the athlete, sessions, goals, plans, observations) come from the
directory view; each one's events are read from the store with ``recorder.select_events`` (one
query per aggregate) and decoded through the application's mapper, so older event versions
arrive upcast.  A type filter is applied to the stored topic, before decoding.

Every event is described the same way here, in the API and in the JSON Lines export::

    {"event_id": "<aggregate id>:<version>", "type": "SetLogged", "aggregate_kind": "session",
     "aggregate_id": ..., "version": 3, "occurred_at": ..., "recorded_at": ...,
     "source": {"entry": "hand", "kind": "athlete", "principal_id": ...}, "payload": {...}}

``source`` keeps who recorded the fact (role and principal id), the import id and the device
file's hash, and the request id of an idempotent write.  It leaves out the token id and the
request fingerprint (credentials and internals); any string shaped like a bearer token is
redacted, wherever it appears.  Ordered by recorded time (then aggregate id and version).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.utils import get_topic

from projections.history import entities
from services.application import TrainingLog, in_zone
from services.domain.athlete import Athlete
from services.domain.base import TrainingAggregate
from services.domain.errors import InvalidValue, NotFound
from services.domain.goal import Goal
from services.domain.observation import Observation
from services.domain.plan import WeeklyPlan
from services.domain.session import TrainingSession
from services.keyring import KeyErased
from services.runtime import Runtime

#: aggregate kind (as in the directory view) -> aggregate class
AGGREGATES: dict[str, type[TrainingAggregate]] = {
    "athlete": Athlete,
    "session": TrainingSession,
    "goal": Goal,
    "plan": WeeklyPlan,
    "observation": Observation,
}
ENVELOPE = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp",
                      "occurred_at", "source"})
SOURCE_FIELDS = ("kind", "principal_id", "import_id", "file_hash", "request_id")
TOKEN_LIKE = re.compile(r"tl[akc]_[A-Za-z0-9_-]{16,}")
REDACTED = "[redacted]"
MAX_LIMIT = 1000


def _event_types() -> dict[str, tuple[str, str]]:
    """topic -> (type name, qualified name) of every event of the athlete's aggregates."""
    out: dict[str, tuple[str, str]] = {}
    for cls in AGGREGATES.values():
        for name, member in vars(cls).items():
            if (isinstance(member, type) and issubclass(member, TrainingAggregate.Event)
                    and name not in ("Event", "Created")):
                out[get_topic(member)] = (name, f"{cls.__name__}.{name}")
    return out


EVENT_TYPES = _event_types()
TYPE_NAMES = sorted({name for name, _ in EVENT_TYPES.values()})


# ------------------------------------------------------------------ query parameters


def parse_types(values: Iterable[str] | None) -> frozenset[str] | None:
    """Topics for ``type`` filters (``SetLogged`` or ``TrainingSession.SetLogged``, repeated
    or comma-separated); None: no filter.  An unknown name is a 422 naming the known ones."""
    wanted = [v.strip() for value in values or () for v in value.split(",") if v.strip()]
    if not wanted:
        return None
    topics: set[str] = set()
    for name in wanted:
        found = {t for t, (short, full) in EVENT_TYPES.items() if name in (short, full)}
        if not found:
            raise InvalidValue(f"unknown event type {name!r}; known: {', '.join(TYPE_NAMES)}",
                               "type")
        topics |= found
    return frozenset(topics)


def parse_instant(value: str | None, field: str, timezone: str, end_of_day: bool = False,
                  ) -> datetime | None:
    """An ISO 8601 instant, or a date: its start (``end_of_day``: its last microsecond) in
    the athlete's time zone; a time without an offset is read in that zone too (see
    :func:`~services.application.in_zone`)."""
    if value is None or value == "":
        return None
    zone = ZoneInfo(timezone)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if end_of_day:
                moment = datetime.combine(day + timedelta(days=1), time(), zone) - timedelta(
                    microseconds=1)
            else:
                moment = datetime.combine(day, time(), zone)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue("must be an ISO 8601 date or date-time (e.g. 2026-11-01 or "
                           f"2026-11-01T18:00:00Z), got {value!r}", field) from None
    return in_zone(moment, timezone, field).astimezone(UTC)


@dataclass(frozen=True)
class AuditQuery:
    """Which events: by type (topics) and by recorded time, both bounds inclusive."""

    topics: frozenset[str] | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InvalidValue("since is after until", "since")


Key = tuple[datetime, str, int]  # (recorded_at, aggregate id, version): the order of the trail


def encode_cursor(key: Key) -> str:
    raw = json.dumps([key[0].isoformat(), key[1], key[2]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Key | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, aggregate_id, version = json.loads(raw)
        key = (datetime.fromisoformat(moment), str(UUID(aggregate_id)), int(version))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidValue("not a cursor this endpoint returned", "cursor") from None
    if key[0].tzinfo is None:
        raise InvalidValue("not a cursor this endpoint returned", "cursor")
    return key


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Entry:
    key: Key
    kind: str
    event: Any

    def describe(self) -> dict[str, Any]:
        return describe(self.kind, self.event)


def owned_aggregates(rt: Runtime, athlete_id: str) -> list[tuple[str, str]]:
    """(kind, id) of the athlete and every aggregate of theirs (directory caught up first)."""
    rt.directory.feed.catch_up(rt.directory.view)
    return [("athlete", athlete_id), *entities(rt.tables, athlete_id)]


def read_events(app: TrainingLog, owned: Sequence[tuple[str, str]],
                query: AuditQuery | None = None) -> list[Entry]:
    """The matching events of these aggregates (all without a query), in the trail's order."""
    query = query or AuditQuery()
    out: list[Entry] = []
    for kind, aggregate_id in owned:
        for stored in app.recorder.select_events(UUID(aggregate_id)):
            if query.topics is not None and stored.topic not in query.topics:
                continue
            try:
                event: Any = app.mapper.to_domain_event(stored)
            except KeyErased:  # erased meanwhile: as for any unknown athlete
                raise NotFound("no such athlete") from None
            recorded = event.timestamp.astimezone(UTC)
            if (query.since is not None and recorded < query.since) or (
                    query.until is not None and recorded > query.until):
                continue
            out.append(Entry((recorded, aggregate_id, event.originator_version), kind, event))
    out.sort(key=lambda e: e.key)
    return out


def page(entries: list[Entry], limit: int, after: Key | None,
         ) -> tuple[list[Entry], str | None]:
    """The entries after the cursor, at most ``limit``, and the cursor of the next page."""
    start = 0
    if after is not None:
        lo, hi = 0, len(entries)
        while lo < hi:  # first entry with key > after
            mid = (lo + hi) // 2
            if entries[mid].key <= after:
                lo = mid + 1
            else:
                hi = mid
        start = lo
    chosen = entries[start:start + limit]
    more = start + limit < len(entries)
    return chosen, encode_cursor(chosen[-1].key) if chosen and more else None


# ------------------------------------------------------------------ describing


def event_id(aggregate_id: Any, version: int) -> str:
    return f"{aggregate_id}:{version}"


def type_name(event: Any) -> str:
    return type(event).__name__


def jsonable(value: Any) -> Any:
    """A JSON value for anything an event holds; token-like strings redacted."""
    if isinstance(value, str):
        return TOKEN_LIKE.sub(REDACTED, value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=str)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return jsonable(str(value))


def describe_source(source: dict[str, Any] | None) -> dict[str, Any]:
    """Who recorded the event, without the token id or the request fingerprint (every key
    present, None when it does not apply)."""
    source = source or {}
    out: dict[str, Any] = {}
    if source.get("kind") == "system":
        out["entry"] = "system"
    elif source.get("file_hash") or source.get("import_id"):
        out["entry"] = "import"
    else:
        out["entry"] = "hand"
    out.update({k: jsonable(source.get(k) or None) for k in SOURCE_FIELDS})
    return out


def describe(kind: str, event: Any) -> dict[str, Any]:
    aggregate_id = str(event.originator_id)
    payload = {k: v for k, v in vars(event).items() if k not in ENVELOPE}
    return {
        "event_id": event_id(aggregate_id, event.originator_version),
        "type": type_name(event),
        "aggregate_kind": kind,
        "aggregate_id": aggregate_id,
        "version": event.originator_version,
        "occurred_at": jsonable(event.occurred_at.astimezone(UTC)),
        "recorded_at": jsonable(event.timestamp.astimezone(UTC)),
        "source": describe_source(event.source),
        "payload": jsonable(payload),
    }


def json_lines(entries: Iterable[Entry], chunk: int = 200) -> Iterator[str]:
    """The entries as JSON Lines, a few hundred lines per chunk."""
    lines: list[str] = []
    for entry in entries:
        lines.append(json.dumps(entry.describe(), ensure_ascii=False, sort_keys=False) + "\n")
        if len(lines) >= chunk:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)
