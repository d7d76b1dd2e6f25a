"""The right to erasure in an append-only store: destroy the key, purge what is derived.

History is never rewritten.  Every stored payload of the athlete is encrypted with their key
(:mod:`services.keyed_mapper`), and so is every copy on the topic (:mod:`ingest.envelope`):
destroying that key makes all of it unreadable at once, in the store, on the topic and in any
backup that does not also hold the key.  What was derived in clear is deleted: view rows,
tokens, queued imports (they hold file bytes), and the stored device files.  The erasure is
also written to ``erasures.log`` in the data directory, outside the database, so that
restoring an older backup erases the athlete again (:mod:`services.backup`); the ledger
names the athlete's device files, which a restore can no longer find in the athlete's
(unreadable) sessions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventsourcing.application import LRUCache

from services.domain.errors import NotFound
from services.runtime import Runtime

#: (table, column naming the athlete) of every service table with rows of an athlete
#: (the views' own rows: each view forgets its athlete, ``View.forget_athlete``)
ATHLETE_ROWS = (
    ("tl_directory", "athlete_id"), ("tl_tokens", "principal_id"),
    ("tl_imports", "athlete_id"), ("tl_watch_seen", "athlete_id"),
)
LEDGER = "erasures.log"


@dataclass
class ErasureReport:
    athlete_id: str
    rows_deleted: dict[str, int] = field(default_factory=dict)
    artifacts_deleted: int = 0


def ledger_path(rt: Runtime) -> Path:
    return rt.settings.data_dir / LEDGER


def ledger_entries(data_dir: Path) -> dict[str, list[str]]:
    """Erased athlete -> the digests of their device files, from the ledger."""
    path = data_dir / LEDGER
    if not path.exists():
        return {}
    entries = [json.loads(line) for line in path.read_text().splitlines() if line]
    return {e["athlete_id"]: list(e.get("artifacts", [])) for e in entries}


def erase_athlete(rt: Runtime, athlete_id: str, record: bool = True) -> ErasureReport:
    """Make everything of this athlete unreadable; raises NotFound if there is no such
    athlete (or it was erased already).  ``record``: write it to the ledger."""
    rt.app.athlete(athlete_id)  # NotFound if unknown or already erased
    sessions = rt.directory.list("session", athlete_id, limit=1_000_000)
    artifacts = set()
    for row in sessions:
        device: Any = rt.app.session(row["entity_id"]).device or {}
        if device.get("artifact_sha256"):
            artifacts.add(device["artifact_sha256"])
    rt.keys.erase(athlete_id)
    if record:
        ledger = ledger_path(rt)
        ledger.parent.mkdir(parents=True, exist_ok=True)
        with ledger.open("a") as f:
            f.write(json.dumps({"athlete_id": athlete_id,
                                "erased_at": datetime.now(UTC).isoformat(),
                                "artifacts": sorted(artifacts)}) + "\n")
    cache = rt.app.repository.cache
    if cache is not None:  # aggregates read before the erasure must not be served again
        rt.app.repository.cache = LRUCache(maxsize=2000)
    return purge(rt, athlete_id, artifacts)


def purge(rt: Runtime, athlete_id: str, artifacts: set[str]) -> ErasureReport:
    """Delete what was derived in clear: rows, tokens, device files (no key needed)."""
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
    if not rt.tables.is_postgres:  # no old page images left in the write-ahead log
        rt.tables.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rt.tokens.forget(athlete_id)
    for digest in artifacts:
        report.artifacts_deleted += rt.artifacts.delete(digest)
    return report


def reapply(rt: Runtime, ledger: dict[str, list[str]]) -> int:
    """Erase again, after a restore, every athlete the ledger names (athlete -> device
    files); returns how many were still present in the restored store."""
    count = 0
    for athlete_id, artifacts in ledger.items():
        try:
            erase_athlete(rt, athlete_id, record=False)
        except NotFound:  # unreadable (their KEK left the key file): purge what is in clear
            if rt.keys.erase(athlete_id):
                purge(rt, athlete_id, set(artifacts))
                count += 1
            continue
        count += 1
    return count
