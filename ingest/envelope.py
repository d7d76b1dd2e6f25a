"""The versioned JSON envelope of an event on the topic (``envelope.schema.json``).

Version 2, written now: in clear only what routing and decrypting need, the schema version
and an opaque key id (:mod:`ingest.topic_keys`, also the record key, so an owner's records
share a partition).  Everything else is inside the AES-GCM ciphertext, sealed with the
owner's key and with the clear part as associated data: the metadata (type, ids, versions,
position, times, source with its file hash) as canonical JSON, a newline, then the payload
as the store's transcoder wrote it.

Version 1, written before, kept that metadata in clear beside the ciphertext (``key_owner``
named the key) and is still read.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from ingest.topic_keys import TopicKeys
from services.keyring import KeyErased, KeyRing

SCHEMA_VERSION = 2
LEGACY_VERSION = 1


@dataclass(frozen=True)
class Envelope:
    meta: dict[str, Any]  # the metadata (decrypted, for version 2)
    stored: StoredEvent  # the event as the store keeps it, ready for the mapper


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def seal(notification: Notification, plain: bytes, state: dict[str, Any],
         athlete_id: str | None, keys: KeyRing, topic_keys: TopicKeys) -> tuple[bytes, bytes]:
    """(key, value) of the Kafka record for one stored event; ``plain`` is its payload as the
    transcoder wrote it (decrypted from the store), ``state`` that JSON decoded (times stay as
    the store wrote them: ISO 8601 with their offset)."""
    aggregate_id = str(notification.originator_id)
    owner = athlete_id or aggregate_id
    meta: dict[str, Any] = {
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
    key_id = topic_keys.key_id(owner)
    clear = _canonical({"key_id": key_id, "schema_version": SCHEMA_VERSION})
    sealed = base64.b64encode(keys.encrypt(owner, _canonical(meta) + b"\n" + plain, clear))
    # the value is the clear part's canonical JSON with the payload added: one encoding
    return key_id.encode(), clear[:-1] + b',"payload":"' + sealed + b'"}'


def _iso(value: Any) -> str | None:
    """A datetime as the library's JSON transcoder stored it."""
    return value.get("_data_") if isinstance(value, dict) else None


def open_envelope(value: bytes, keys: KeyRing, topic_keys: TopicKeys) -> Envelope:
    """Decrypt a record's value; raises :class:`~services.keyring.KeyErased` if erased."""
    data = json.loads(value)
    version = data.get("schema_version")
    payload = base64.b64decode(data.pop("payload"))
    if version == SCHEMA_VERSION:
        owner = topic_keys.owner_of(data["key_id"])
        if owner is None:
            raise KeyErased(data["key_id"])  # unlinked by the erasure
        inner = keys.decrypt(owner, payload, _canonical(data))
        head, _, state = inner.partition(b"\n")
        meta = json.loads(head)
    elif version == LEGACY_VERSION:
        meta = data
        state = keys.decrypt(data["key_owner"], payload, _canonical(data))
    else:
        raise ValueError(f"unsupported envelope schema {version!r}")
    stored = StoredEvent(originator_id=UUID(meta["aggregate_id"]),
                         originator_version=int(meta["aggregate_version"]),
                         topic=meta["topic"], state=state)
    return Envelope(meta, stored)
