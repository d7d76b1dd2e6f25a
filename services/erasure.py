"""The right to erasure in an append-only store: destroy the key, purge what is derived.

History is never rewritten.  Every stored payload of the athlete is encrypted with their key
(:mod:`services.keyed_mapper`), and so is every copy on the topic (:mod:`ingest.envelope`):
destroying that key makes all of it unreadable at once, in the store, on the topic and in any
backup that does not also hold the key.  What was derived in clear is deleted: view rows,
tokens, queued imports (they hold file bytes), and the stored device files.  The erasure is
also written to ``erasures.log`` in the data directory, outside the database, so that
restoring an older backup erases the athlete again (:mod:`services.backup`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventsourcing.application import LRUCache

from ingest.topic_keys import forget_athlete as forget_topic_key
from projections import dead_letters
from services.domain.errors import NotFound
from services.runtime import Runtime

#: (table, column naming the athlete) of every service table with rows of an athlete
#: (the views' own rows: each view forgets its athlete, ``View.forget_athlete``)
ATHLETE_ROWS = (
    ("tl_directory", "athlete_id"), ("tl_tokens", "principal_id"),
    ("tl_imports", "athlete_id"), ("tl_watch_seen", "athlete_id"),
)
LEDGER = "erasures.log"
log = logging.getLogger("trainledger.erasure")


@dataclass
class ErasureReport:
    athlete_id: str
    rows_deleted: dict[str, int] = field(default_factory=dict)
    artifacts_deleted: int = 0


def ledger_path(rt: Runtime) -> Path:
    return rt.settings.data_dir / LEDGER


def erased_ids(data_dir: Path) -> list[str]:
    path = data_dir / LEDGER
    if not path.exists():
        return []
    return [json.loads(line)["athlete_id"] for line in path.read_text().splitlines() if line]


def erase_athlete(rt: Runtime, athlete_id: str, record: bool = True) -> ErasureReport:
    """Make everything of this athlete unreadable; raises NotFound if there is no such
    athlete (or it was erased already).  ``record``: write it to the ledger."""
    rt.app.athlete(athlete_id)  # NotFound if unknown or already erased
    sessions = rt.directory.list("session", athlete_id, limit=1_000_000)
    artifacts = set()
    for row in sessions:
        try:
            device: Any = rt.app.session(row["entity_id"]).device or {}
        except Exception as exc:  # a damaged stored event: erasure must still go through
            log.warning("erasure: session %s unreadable (%s)", row["entity_id"], exc)
            continue
        if device.get("artifact_sha256"):
            artifacts.add(device["artifact_sha256"])
    rt.keys.erase(athlete_id)
    if record:
        ledger = ledger_path(rt)
        ledger.parent.mkdir(parents=True, exist_ok=True)
        with ledger.open("a") as f:
            f.write(json.dumps({"athlete_id": athlete_id,
                                "erased_at": datetime.now(UTC).isoformat()}) + "\n")
    cache = rt.app.repository.cache
    if cache is not None:  # aggregates read before the erasure must not be served again
        rt.app.repository.cache = LRUCache(maxsize=2000)
    report = ErasureReport(athlete_id)
    present = [(t, c) for t, c in ATHLETE_ROWS if rt.tables.exists(t)]
    with rt.tables.transaction() as tx:
        if not rt.tables.is_postgres:  # overwrite deleted rows, not just unlink them
            tx.execute("PRAGMA secure_delete = ON")
        for table, column in present:
            report.rows_deleted[table] = tx.execute(
                f"DELETE FROM {tx.name(table)} WHERE {column} = %s", (athlete_id,))
        for view in rt.views.values():
            report.rows_deleted.update(view.forget_athlete(tx, athlete_id))
        report.rows_deleted.update(dead_letters.forget_athlete(tx, athlete_id))
        report.rows_deleted["tl_topic_keys"] = forget_topic_key(tx, athlete_id)
    if not rt.tables.is_postgres:  # no old page images left in the write-ahead log
        rt.tables.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rt.tokens.forget(athlete_id)
    for digest in artifacts:
        report.artifacts_deleted += rt.artifacts.delete(digest)
    return report


def reapply(rt: Runtime, athlete_ids: list[str]) -> int:
    """Erase again, after a restore, every athlete the ledger names; returns how many."""
    count = 0
    for athlete_id in athlete_ids:
        try:
            erase_athlete(rt, athlete_id, record=False)
        except NotFound:
            rt.keys.erase(athlete_id)  # already unreadable: make sure the key is gone
            continue
        count += 1
    return count
