"""Intake of imports: requests are stored, then applied by the intake worker, never by the API.

A burst of uploads only adds rows to ``tl_imports`` (status ``pending``).  With Kafka, the
:class:`IntakePublisher` puts each pending request on the ``<namespace>.intake`` topic (record:
the athlete's opaque key id, :mod:`ingest.topic_keys`, and the import id; the file stays in
the database) and the intake worker (consumer group ``<namespace>.intake``) applies it;
without Kafka an in-process worker picks pending rows up directly.  Either way each request
ends as ``imported``, ``duplicate`` (same content already imported for that athlete) or
``rejected`` with a reason, which the uploader polls or waits for by import id.  Applying is
idempotent, so a redelivered request changes nothing.

Kinds: ``sessions`` (JSON list of past sessions, as ``POST /athletes/{id}/sessions`` takes);
the FIT issue adds ``fit``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid4, uuid5

from eventsourcing.persistence import PersistenceError

from ingest import kafka_io
from ingest.session_results import session_results
from ingest.topic_keys import TopicKeys
from projections import dead_letters
from projections.source import describe
from services.application import TrainingLog
from services.commands import SessionCommand
from services.domain.base import Source
from services.domain.errors import DomainError, RequestKeyReused
from services.group_commit import GroupCommit
from services.keyring import KeyErased
from services.tables import ServiceTables, Tx

TABLE = "tl_imports"
log = logging.getLogger("trainledger.intake")


@dataclass(frozen=True)
class ImportRecord:
    import_id: str
    athlete_id: str
    kind: str
    content_hash: str
    status: str
    reason: str | None
    result: dict[str, Any]
    submitted_at: str
    finished_at: str | None


def _now() -> str:
    return datetime.now(UTC).isoformat()


class ImportStore:
    def __init__(self, db: ServiceTables) -> None:
        self.db = db
        self.table = db.name(TABLE)
        blob = "BYTEA" if db.is_postgres else "BLOB"
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (import_id TEXT PRIMARY KEY, "
            "athlete_id TEXT NOT NULL, kind TEXT NOT NULL, content_hash TEXT NOT NULL, "
            f"payload {blob} NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, "
            "result TEXT NOT NULL, published INTEGER NOT NULL, submitted_at TEXT NOT NULL, "
            "finished_at TEXT)"
        )
        migrate_payloads(db, self.table)
        db.execute(f"CREATE INDEX IF NOT EXISTS tl_imports_hash ON {self.table} "
                   "(athlete_id, content_hash, status)")
        db.execute(f"CREATE INDEX IF NOT EXISTS tl_imports_pending ON {self.table} "
                   "(status, published)")
        self.submitted = threading.Event()

    def submit(self, athlete_id: str, kind: str, payload: bytes, source: Source,
               request_id: str | None = None,
               content_hash: str | None = None) -> ImportRecord:
        """Queue a request; with ``request_id`` (from an Idempotency-Key) a retry answers the
        request already queued, and the key reused for other content raises.
        ``content_hash`` (default: the payload's SHA-256) is what makes a later request with
        the same content a duplicate."""
        import_id = import_id_for(request_id) if request_id else str(uuid4())
        digest = content_hash or hashlib.sha256(payload).hexdigest()
        submitted_at = _now()
        added = self.db.execute(
            f"INSERT INTO {self.table} (import_id, athlete_id, kind, content_hash, payload, "
            "source, status, result, published, submitted_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, 'pending', '{}', 0, %s) "
            "ON CONFLICT (import_id) DO NOTHING",
            (import_id, athlete_id, kind, digest, payload, json.dumps(source.as_dict()),
             submitted_at),
        )
        self.submitted.set()
        if added:  # as queued (the intake may already be applying it)
            return ImportRecord(import_id, athlete_id, kind, digest, "pending", None, {},
                                submitted_at, None)
        record = self.get(import_id)
        assert record is not None
        if (record.athlete_id, record.kind, record.content_hash) != (athlete_id, kind, digest):
            raise RequestKeyReused("Idempotency-Key was already used for a different request",
                                   "Idempotency-Key")
        return record

    def get(self, import_id: str) -> ImportRecord | None:
        rows = self.db.query(
            f"SELECT import_id, athlete_id, kind, content_hash, status, reason, result, "
            f"submitted_at, finished_at FROM {self.table} WHERE import_id = %s", (import_id,))
        if not rows:
            return None
        row = rows[0]
        row["result"] = json.loads(row["result"])
        return ImportRecord(**row)

    def pending(self, unpublished_only: bool = False, limit: int = 100) -> list[str]:
        extra = " AND published = 0" if unpublished_only else ""
        rows = self.db.query(f"SELECT import_id FROM {self.table} WHERE status = 'pending'"
                             f"{extra} ORDER BY submitted_at LIMIT %s", (limit,))
        return [r["import_id"] for r in rows]

    def pending_bytes(self, athlete_id: str) -> int:
        """The bytes of the athlete's requests still waiting for the intake."""
        rows = self.db.query(f"SELECT COALESCE(SUM(LENGTH(payload)), 0) AS n FROM {self.table} "
                             "WHERE athlete_id = %s AND status = 'pending'", (athlete_id,))
        return int(rows[0]["n"])

    def mark_published(self, import_ids: list[str]) -> None:
        for import_id in import_ids:
            self.db.execute(f"UPDATE {self.table} SET published = 1 WHERE import_id = %s",
                            (import_id,))

    def _load(self, import_id: str) -> dict[str, Any] | None:
        rows = self.db.query(f"SELECT * FROM {self.table} WHERE import_id = %s", (import_id,))
        return rows[0] if rows else None

    def _finish(self, import_id: str, status: str, reason: str | None,
                result: dict[str, Any]) -> None:
        """Record the decision; the payload is dropped (what was imported lives in the events
        and the artifact store, a rejected file in the quarantine)."""
        self.db.execute(
            f"UPDATE {self.table} SET status = %s, reason = %s, result = %s, finished_at = %s, "
            "payload = %s WHERE import_id = %s AND status = 'pending'",
            (status, reason, json.dumps(result), _now(), b"", import_id),
        )

    def forget_athlete(self, tx: Tx, athlete_id: str) -> dict[str, int]:
        """Delete the athlete's import requests, with the file bytes they hold (erasure)."""
        return {TABLE: tx.execute(f"DELETE FROM {self.table} WHERE athlete_id = %s",
                                  (athlete_id,))}

    def _imported_before(self, athlete_id: str, content_hash: str) -> str | None:
        rows = self.db.query(
            f"SELECT import_id FROM {self.table} WHERE athlete_id = %s AND content_hash = %s "
            "AND status IN ('imported', 'updated') LIMIT 1", (athlete_id, content_hash))
        return rows[0]["import_id"] if rows else None


def import_id_for(request_id: str) -> str:
    """The id of the import request queued under ``request_id``."""
    return str(uuid5(NAMESPACE_URL, f"trainledger:import:{request_id}"))


def row_bytes(value: bytes | memoryview | str) -> bytes:
    """A payload as read back: bytes (BLOB, BYTEA), or text in a store not yet migrated."""
    return value.encode() if isinstance(value, str) else bytes(value)


def migrate_payloads(db: ServiceTables, table: str) -> None:
    """Stores from before payloads were bytes: the column becomes BYTEA (PostgreSQL), each
    decided request's payload is dropped, and a pending FIT request's base64 JSON becomes
    the framed bytes :func:`ingest.fit.importer.fit_payload` makes now."""
    if db.is_postgres:
        rows = db.query("SELECT data_type FROM information_schema.columns WHERE "
                        "table_schema = %s AND table_name = %s AND column_name = 'payload'",
                        (db.schema, TABLE))
        if rows and rows[0]["data_type"] == "text":
            db.execute(f"ALTER TABLE {table} ALTER COLUMN payload TYPE BYTEA "
                       "USING convert_to(payload, 'UTF8')")
        else:
            return
    elif not db.query(f"SELECT 1 AS x FROM {table} WHERE typeof(payload) = 'text' LIMIT 1"):
        return
    db.execute(f"UPDATE {table} SET payload = %s WHERE status <> 'pending'", (b"",))
    for row in db.query(f"SELECT import_id, kind, payload FROM {table} "
                        "WHERE status = 'pending'"):
        payload = row_bytes(row["payload"])
        if row["kind"] == "fit" and payload.startswith(b"{"):
            old = json.loads(payload)
            payload = frame_fit(old.get("name", "upload.fit"),
                                base64.b64decode(old["data_b64"]), bool(old.get("salvage")))
        db.execute(f"UPDATE {table} SET payload = %s WHERE import_id = %s",
                   (payload, row["import_id"]))


def frame_fit(name: str, data: bytes, salvage: bool = False) -> bytes:
    """A FIT request's payload: one JSON line (name, salvage), then the file's bytes."""
    return json.dumps({"name": name, "salvage": salvage}).encode() + b"\n" + data


def unframe_fit(payload: bytes) -> tuple[str, bytes, bool]:
    """(name, data, salvage) of a payload :func:`frame_fit` made."""
    header, _, data = payload.partition(b"\n")
    request = json.loads(header)
    return str(request.get("name", "upload.fit")), data, bool(request.get("salvage"))


#: (app, source, athlete_id, content key, payload) -> result; a result may carry its own
#: "status" (duplicate, skipped, rejected) and "reason".
Handler = Callable[[TrainingLog, Source, str, str, bytes], dict[str, Any]]


def import_sessions(app: TrainingLog, source: Source, athlete_id: str, content_key: str,
                    payload: bytes) -> dict[str, Any]:
    sessions = [SessionCommand.from_json(item) for item in json.loads(payload)["sessions"]]
    outcome = app.import_sessions(source, athlete_id, content_key, sessions)
    return {"session_ids": list(outcome.sessions),
            "sessions": session_results(app, outcome)}


HANDLERS: dict[str, Handler] = {"sessions": import_sessions}


class IntakeProcessor:
    """Applies one import request; safe to call again for the same request."""

    def __init__(self, app: TrainingLog, store: ImportStore,
                 handlers: dict[str, Handler] | None = None,
                 before: Callable[[], None] | None = None) -> None:
        self.app = app
        self.before = before or (lambda: None)  # erasures made elsewhere, taken in first
        self.store = store
        self.handlers = {**HANDLERS, **(handlers or {})}

    def process(self, import_id: str) -> None:
        """Apply the request in one transaction: its events, stored file and decision are
        committed together (or, inside a group commit, in a savepoint of the group's)."""
        if self.app.shared.is_open():
            self._process(import_id)
            return
        with GroupCommit(self.app, self.store.db, files=1) as group, group.item():
            self._process(import_id)

    def _process(self, import_id: str) -> None:
        self.before()
        row = self.store._load(import_id)
        if row is None or row["status"] != "pending":
            return  # unknown here, or already finished (a redelivery)
        earlier = self.store._imported_before(row["athlete_id"], row["content_hash"])
        if earlier is not None:
            original = self.store.get(earlier)
            result = dict(original.result) if original else {}
            result["sessions"] = [{**s, "status": "existing"} for s in result.get("sessions", [])]
            self.store._finish(import_id, "duplicate", f"same content as import {earlier}",
                               {"duplicate_of": earlier, **result})
            return
        source = Source(**json.loads(row["source"]))
        source = Source(source.kind, source.principal_id, source.token_id, import_id,
                        row["content_hash"])
        # Entity ids derive from the athlete and the content, not the request: the same
        # content imported twice, even concurrently, records its sessions once.
        content_key = f"{row['athlete_id']}:{row['content_hash']}"
        try:
            with self.app.shared.savepoint():  # a handler that raises leaves nothing behind
                result = self.handlers[row["kind"]](self.app, source, row["athlete_id"],
                                                    content_key, row_bytes(row["payload"]))
        except DomainError as exc:
            reason = f"{exc.field}: {exc.message}" if exc.field else exc.message
            self.store._finish(import_id, "rejected", reason, {})
            return
        except (KeyError, ValueError, TypeError) as exc:
            self.store._finish(import_id, "rejected", f"malformed request: {exc}", {})
            return
        except KeyErased:  # erased meanwhile: nothing of theirs is applied
            self.store._finish(import_id, "rejected", "the athlete was erased", {})
            return
        except PersistenceError:
            raise  # the store is down: the import stays pending and is retried
        except Exception as exc:  # a bug: answer it, rather than retry it ahead of the queue
            log.exception("import %s failed", import_id)
            self.store._finish(import_id, "rejected",
                               f"internal error while importing ({type(exc).__name__}); "
                               "nothing was recorded", {})
            return
        status = str(result.pop("status", "imported"))
        reason = result.pop("reason", None)
        self.store._finish(import_id, status, reason, result)


class LocalIntakeWorker(threading.Thread):
    """Without Kafka: applies pending requests in this process, woken by each submission."""

    def __init__(self, processor: IntakeProcessor, stop: threading.Event) -> None:
        super().__init__(name="trainledger-intake", daemon=True)
        self.processor = processor
        self.stopping = stop

    def run(self) -> None:
        store = self.processor.store
        while not self.stopping.is_set():
            try:
                for import_id in store.pending():
                    self.processor.process(import_id)
            except Exception:
                log.exception("intake failed; retrying")
            store.submitted.wait(0.5)
            store.submitted.clear()


class IntakePublisher:
    """With Kafka: puts pending, unpublished requests on the intake topic (key: the
    athlete's key id)."""

    def __init__(self, store: ImportStore, bootstrap: str, topic: str) -> None:
        self.store = store
        self.bootstrap = bootstrap
        self.topic = topic
        self.topic_keys = TopicKeys(store.db)

    def run(self, stop: threading.Event) -> None:
        producer: Any = None
        while not stop.is_set():
            try:
                ids = self.store.pending(unpublished_only=True)
                if ids:
                    if producer is None:
                        kafka_io.ensure_topic(self.bootstrap, self.topic, 3)
                        producer = kafka_io.make_producer(self.bootstrap)
                    rows = {i: self.store.get(i) for i in ids}
                    futures = [producer.send(self.topic,
                                             key=self.topic_keys.key_id(r.athlete_id).encode(),
                                             value=json.dumps({"import_id": i}).encode())
                               for i, r in rows.items() if r is not None]
                    producer.flush()
                    for future in futures:
                        future.get(timeout=30)
                    self.store.mark_published(ids)
                else:
                    self.store.submitted.wait(0.5)
                    self.store.submitted.clear()
            except Exception as exc:
                log.warning("intake publisher: %s; retrying", exc)
                if producer is not None:
                    producer.close(timeout=5)
                    producer = None
                stop.wait(1.0)
        if producer is not None:
            producer.close(timeout=5)


class KafkaIntakeWorker:
    """``trainledger intake``: the consumer group that applies import requests (named
    as the topic)."""

    def __init__(self, processor: IntakeProcessor, bootstrap: str, topic: str) -> None:
        self.processor = processor
        self.bootstrap = bootstrap
        self.topic = topic

    def _import_id(self, record: Any) -> str | None:
        """The request a record names; a record that names none is parked (view
        ``intake``, ``trainledger dead-letters``) rather than stopping every import."""
        try:
            return str(json.loads(record.value)["import_id"])
        except (ValueError, KeyError, TypeError) as exc:
            where = f"{self.topic}/{record.partition}@{record.offset}"
            log.warning("intake: record %s is not an import request: %s", where, exc)
            with self.processor.store.db.transaction() as tx:
                dead_letters.park(tx, "intake", dead_letters.unopened(
                    bytes(record.value or b""), where, describe(exc)), describe(exc))
            return None

    def run(self, stop: threading.Event) -> None:
        consumer: Any = None
        while not stop.is_set():
            try:
                if consumer is None:
                    kafka_io.ensure_topic(self.bootstrap, self.topic, 3)
                    consumer = kafka_io.make_consumer(self.bootstrap, self.topic)
                    consumer.subscribe([self.topic])
                for records in consumer.poll(timeout_ms=500).values():
                    for record in records:
                        import_id = self._import_id(record)
                        if import_id is not None:
                            self.processor.process(import_id)
                consumer.commit()
            except Exception as exc:
                log.warning("intake worker: %s; retrying", exc)
                if consumer is not None:
                    kafka_io.close_consumer(consumer)
                    consumer = None
                stop.wait(1.0)
        if consumer is not None:
            consumer.close()
