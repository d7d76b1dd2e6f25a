"""The right to erasure in an append-only store: destroy the key, purge what is derived.

History is never rewritten.  Every stored payload of the athlete is encrypted with their key
(:mod:`services.keyed_mapper`), and so is every copy on the topic (:mod:`ingest.envelope`):
destroying that key makes all of it unreadable at once, in the store, on the topic and in any
backup that does not also hold the key.  What was derived in clear is deleted by the owner of
each table or folder (``forget_athlete``): directory and view rows, tokens, import requests
(they hold file bytes), watched-folder records, device-file references with the files nobody
else refers to, and rejected files.

An erasure is resumable and idempotent.  Its intent is written first to ``erasures.log`` in
the data directory ("started"), then the key is destroyed, the rows and files purged and, on
SQLite, the write-ahead log checkpointed and truncated; "done" is written last.  If a step
fails, erasing the athlete again (API, ``trainledger erase``) or the next start finishes it.
The ledger lives outside the database, so restoring an older backup erases the athlete again
(:mod:`services.backup`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from eventsourcing.application import LRUCache
from eventsourcing.persistence import PersistenceError

from ingest import topic_keys
from projections import dead_letters
from services.archive_uploads import ArchiveUploads
from services.tables import Tx
from services.wal import WalBusy, truncate_wal

if TYPE_CHECKING:
    from services.runtime import Runtime

LEDGER = "erasures.log"
CHECKPOINT_SECONDS = 10.0  # how long the final checkpoint may wait for readers
log = logging.getLogger("trainledger.erasure")


class ErasureIncomplete(Exception):
    """An erasure began but a step failed: erasing the athlete again finishes it."""


class ForgetsAthletes(Protocol):
    """The owner of a table or folder: deletes an athlete's rows or files, counts per name."""

    def forget_athlete(self, tx: Tx, athlete_id: str) -> dict[str, int]: ...


@dataclass
class ErasureReport:
    athlete_id: str
    rows_deleted: dict[str, int] = field(default_factory=dict)
    artifacts_deleted: int = 0


def owners(rt: Runtime) -> list[ForgetsAthletes]:
    """Everything holding rows or files of an athlete, each deleting its own; those deleting
    files last (a file deleted cannot come back if the transaction is rolled back)."""
    return [rt.directory.view, rt.tokens, rt.imports, rt.seen_files, *rt.views.values(),
            dead_letters, topic_keys, ArchiveUploads(rt.settings.data_dir), rt.artifacts,
            rt.artifacts.quarantine]


def ledger_states(data_dir: Path) -> dict[str, str]:
    """Each erased athlete's last state: started, done, or legacy (written by an earlier
    version, which did not record whether the purge finished)."""
    path = data_dir / LEDGER
    if not path.exists():
        return {}
    states = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        try:
            entry = json.loads(line) if line.strip() else None
        except ValueError:  # a line torn by a crash while it was written: it took no effect
            log.warning("%s line %d: not JSON, skipped", path, number)
            continue
        if isinstance(entry, dict) and isinstance(entry.get("athlete_id"), str):
            states[entry["athlete_id"]] = str(entry.get("state", "legacy"))
    return states


def erased_ids(data_dir: Path) -> list[str]:
    """Every athlete the ledger names, whatever the state of their erasure."""
    return list(ledger_states(data_dir))


def _note(data_dir: Path, athlete_id: str, state: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"athlete_id": athlete_id, "state": state,
                       "at": datetime.now(UTC).isoformat()}) + "\n"
    with (data_dir / LEDGER).open("a+b") as f:
        if f.tell() > 0:  # after a line torn by a crash: start a line of our own
            f.seek(-1, 2)
            if f.read(1) != b"\n":
                line = "\n" + line
        f.write(line.encode())


def erase_athlete(rt: Runtime, athlete_id: str) -> ErasureReport:
    """Make everything of this athlete unreadable, or finish an erasure that failed half-way;
    raises NotFound if there is no such athlete (or its erasure is done), ErasureIncomplete
    if a step fails (nothing is lost: call again)."""
    if ledger_states(rt.settings.data_dir).get(athlete_id) in (None, "done"):
        rt.app.athlete(athlete_id)  # NotFound if unknown or already erased
        try:
            _note(rt.settings.data_dir, athlete_id, "started")
        except OSError as exc:
            raise ErasureIncomplete(f"cannot record the erasure of {athlete_id}: {exc}; "
                                    "nothing was erased") from exc
    return finish(rt, athlete_id)


def finish(rt: Runtime, athlete_id: str) -> ErasureReport:
    """Destroy the key, purge, checkpoint; each step may run again."""
    report = _purge(rt, athlete_id)
    _seal(rt, [athlete_id])
    return report


def _failed(athlete_ids: list[str], step: str, exc: Exception) -> ErasureIncomplete:
    return ErasureIncomplete(
        f"the erasure of {', '.join(athlete_ids)} is not finished: {step} failed ({exc}); "
        "retry the erasure to finish it")


def _purge(rt: Runtime, athlete_id: str) -> ErasureReport:
    """Destroy the key, then delete the athlete's rows and files in one transaction."""
    report = ErasureReport(athlete_id)
    step = "destroying the key"
    try:
        rt.keys.erase(athlete_id)
        if rt.app.repository.cache is not None:  # aggregates read before must not be served
            rt.app.repository.cache = LRUCache(maxsize=2000)
        step = "deleting the athlete's rows and files"
        forgetting = owners(rt)
        with rt.tables.transaction() as tx:
            if not rt.tables.is_postgres:  # overwrite deleted rows, not just unlink them
                tx.execute("PRAGMA secure_delete = ON")
            for owner in forgetting:
                report.rows_deleted.update(owner.forget_athlete(tx, athlete_id))
    except (PersistenceError, OSError, ValueError) as exc:
        raise _failed([athlete_id], step, exc) from exc
    report.artifacts_deleted = report.rows_deleted.pop("artifacts", 0)
    return report


def _seal(rt: Runtime, athlete_ids: list[str]) -> None:
    """After the purge: on SQLite, no old page images left in the write-ahead log; then the
    ledger records the erasures as done."""
    step = "checkpointing the write-ahead log"
    try:
        if not rt.tables.is_postgres:
            truncate_wal(rt.tables, CHECKPOINT_SECONDS)
        step = "recording it as done"
        for athlete_id in athlete_ids:
            _note(rt.settings.data_dir, athlete_id, "done")
    except (PersistenceError, OSError, WalBusy) as exc:
        raise _failed(athlete_ids, step, exc) from exc


def finish_pending(rt: Runtime) -> list[str]:
    """At start: finish the erasures the ledger has not recorded as done; returns their ids.
    What fails again is logged and left for the next attempt."""
    pending = [a for a, state in ledger_states(rt.settings.data_dir).items() if state != "done"]
    return _finish_all(rt, pending)


def _finish_all(rt: Runtime, athlete_ids: list[str]) -> list[str]:
    """Purge each, then one checkpoint for all of them."""
    purged = []
    for athlete_id in athlete_ids:
        try:
            _purge(rt, athlete_id)
        except ErasureIncomplete as exc:
            log.warning("%s", exc)
            continue
        purged.append(athlete_id)
    if purged:
        try:
            _seal(rt, purged)
        except ErasureIncomplete as exc:
            log.warning("%s", exc)
            return []
    return purged


def reapply(rt: Runtime, athlete_ids: list[str]) -> int:
    """Erase again, after a restore, every athlete the ledger names; returns how many the
    restored store still held (a key row not marked erased: the key file current at restore
    time no longer opens it).  Raises ErasureIncomplete if one cannot be erased."""
    readable = sum(1 for athlete_id in athlete_ids if rt.keys.live(athlete_id))
    if len(_finish_all(rt, athlete_ids)) < len(athlete_ids):
        raise ErasureIncomplete("the restored store could not be erased again for every "
                                "athlete of the ledger (see the log); open it again to retry")
    return readable
