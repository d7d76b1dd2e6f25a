"""Helpers for the tests of Kafka names and the topic envelope: raw records, a second store,
the version 1 envelope as earlier versions sealed it, and a small JSON Schema checker."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from conftest import PG_URL, drop_schema
from eventsourcing.persistence import Notification
from kafka import TopicPartition

from ingest import kafka_io
from services.config import Settings
from services.keyring import KeyRing

ENVELOPE_SCHEMA = Path(__file__).resolve().parents[1] / "ingest" / "envelope.schema.json"


def raw_records(bootstrap: str, topic: str) -> list[Any]:
    """Every record on ``topic``, all partitions, as the broker holds them."""
    ends = kafka_io.end_offsets(bootstrap, topic)
    consumer = kafka_io.make_consumer(bootstrap, None)
    records: list[Any] = []
    try:
        for partition, end in ends.items():
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            consumer.seek(tp, 0)
            seen, deadline = 0, time.monotonic() + 20
            while seen < end and time.monotonic() < deadline:
                for record in consumer.poll(timeout_ms=500).get(tp, []):
                    seen = record.offset + 1
                    records.append(record)
    finally:
        consumer.close()
    return records


@contextmanager
def second_store(settings: Settings, name: str) -> Iterator[Settings]:
    """``settings`` for another store of the same kind (a data dir, or a PostgreSQL schema,
    of its own, dropped afterwards)."""
    data_dir = settings.data_dir / name
    if not settings.database_url:
        yield replace(settings, data_dir=data_dir)
        return
    schema = f"tl_test_{uuid.uuid4().hex[:12]}"
    try:
        yield replace(settings, data_dir=data_dir, database_url=f"{PG_URL}?schema={schema}")
    finally:
        drop_schema(schema)


def seal_v1(notification: Notification, plain: bytes, state: dict[str, Any],
            athlete_id: str | None, keys: KeyRing) -> tuple[bytes, bytes]:
    """A record as envelope version 1 sealed it (metadata in clear, key = the athlete id)."""
    aggregate_id = str(notification.originator_id)
    owner = athlete_id or aggregate_id

    def iso(value: Any) -> str | None:
        return value.get("_data_") if isinstance(value, dict) else None

    meta = {
        "schema_version": 1, "event_type": notification.topic.rsplit(":", 1)[-1],
        "topic": notification.topic,
        "event_id": f"{aggregate_id}/{notification.originator_version}",
        "athlete_id": athlete_id, "key_owner": owner, "aggregate_id": aggregate_id,
        "aggregate_version": notification.originator_version, "position": notification.id,
        "occurred_at": iso(state.get("occurred_at")), "recorded_at": iso(state.get("timestamp")),
        "source": state.get("source"),
    }
    associated = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
    sealed = base64.b64encode(keys.encrypt(owner, plain, associated))
    return owner.encode(), associated[:-1] + b',"payload":"' + sealed + b'"}'


def schema_errors(instance: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """What in ``instance`` breaks ``schema``: the subset of JSON Schema the envelope schema
    uses (type, const, enum, pattern, minLength, required, properties,
    additionalProperties: false, oneOf, $ref to #/$defs)."""
    root = schema
    return _errors(instance, schema, root, where)


def _errors(instance: Any, schema: dict[str, Any], root: dict[str, Any], where: str) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return _errors(instance, root["$defs"][name], root, where)
    if "oneOf" in schema:
        matching = [s for s in schema["oneOf"] if not _errors(instance, s, root, where)]
        return [] if len(matching) == 1 else [f"{where}: matches {len(matching)} of oneOf"]
    kinds = {"object": dict, "string": str, "integer": int, "null": type(None)}
    wanted = schema.get("type")
    if wanted is not None:
        types = wanted if isinstance(wanted, list) else [wanted]
        if not any(isinstance(instance, kinds[t]) and not (t == "integer" and
                   isinstance(instance, bool)) for t in types):
            return [f"{where}: not {wanted}"]
    out = []
    if "const" in schema and instance != schema["const"]:
        out.append(f"{where}: not {schema['const']!r}")
    if "enum" in schema and instance not in schema["enum"]:
        out.append(f"{where}: not one of {schema['enum']}")
    if isinstance(instance, str):
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            out.append(f"{where}: does not match {schema['pattern']}")
        if len(instance) < schema.get("minLength", 0):
            out.append(f"{where}: shorter than {schema['minLength']}")
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        out += [f"{where}: {name} missing" for name in schema.get("required", [])
                if name not in instance]
        if schema.get("additionalProperties") is False:
            out += [f"{where}: {name} not allowed" for name in instance
                    if name not in properties]
        for name, sub in properties.items():
            if name in instance:
                out += _errors(instance[name], sub, root, f"{where}.{name}")
    return out


def envelope_schema() -> dict[str, Any]:
    return dict(json.loads(ENVELOPE_SCHEMA.read_text()))
