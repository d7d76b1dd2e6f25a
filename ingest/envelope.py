"""The versioned JSON envelope of an event on the topic.

Metadata travels in clear (type, ids, versions, position, times, source); the payload (the
event as stored) is encrypted with its athlete's key, with the metadata as associated data,
so a tampered envelope does not decrypt.  Key = the athlete id, so each athlete's events
stay in one partition, in store order.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from services.keyring import KeyRing

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Envelope:
    meta: dict[str, Any]
    stored: StoredEvent  # the event as the store keeps it, ready for the mapper


def _associated(meta: dict[str, Any]) -> bytes:
    return json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()


def seal(notification: Notification, plain: bytes, state: dict[str, Any],
         athlete_id: str | None, keys: KeyRing) -> tuple[bytes, bytes]:
    """(key, value) of the Kafka record for one stored event; ``plain`` is its payload as the
    transcoder wrote it (decrypted from the store), ``state`` that JSON decoded (times stay as
    the store wrote them: ISO 8601 with their offset)."""
    aggregate_id = str(notification.originator_id)
    owner = athlete_id or aggregate_id
    meta: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "event_type": notification.topic.rsplit(":", 1)[-1],
        "topic": notification.topic,
        "event_id": f"{aggregate_id}/{notification.originator_version}",
        "athlete_id": athlete_id,
        "key_owner": owner,
        "aggregate_id": aggregate_id,
        "aggregate_version": notification.originator_version,
        "position": notification.id,
        "occurred_at": _iso(state.get("occurred_at")),
        "recorded_at": _iso(state.get("timestamp")),
        "source": state.get("source"),
    }
    associated = _associated(meta)
    sealed = base64.b64encode(keys.encrypt(owner, plain, associated))
    # the value is the metadata's canonical JSON with the payload added: one encoding
    return owner.encode(), associated[:-1] + b',"payload":"' + sealed + b'"}'


def _iso(value: Any) -> str | None:
    """A datetime as the library's JSON transcoder stored it."""
    return value.get("_data_") if isinstance(value, dict) else None


def open_envelope(value: bytes, keys: KeyRing) -> Envelope:
    """Decrypt a record's value; raises :class:`~services.keyring.KeyErased` if erased."""
    data = json.loads(value)
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"unsupported envelope schema {data.get('schema_version')!r}")
    payload = base64.b64decode(data.pop("payload"))
    state = keys.decrypt(data["key_owner"], payload, _associated(data))
    stored = StoredEvent(originator_id=UUID(data["aggregate_id"]),
                         originator_version=int(data["aggregate_version"]),
                         topic=data["topic"], state=state)
    return Envelope(data, stored)
