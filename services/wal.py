"""SQLite: copy the write-ahead log into the database file and truncate it, checking that it
really happened (old page images in the log would still hold what an erasure deleted)."""

from __future__ import annotations

import time

from services.tables import ServiceTables

WAIT_MS = 1000  # how long one attempt waits for readers (the connection's own is 30 s)


class WalBusy(Exception):
    """Readers kept the log from being checkpointed and truncated in the time allowed."""


def truncate_wal(db: ServiceTables, seconds: float) -> None:
    """``PRAGMA wal_checkpoint(TRUNCATE)`` until it reports every frame copied and the log
    emptied (busy = 0), for at most about ``seconds``; raises :class:`WalBusy` otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        with db.transaction(commit=False) as tx:
            previous = tx.query("PRAGMA busy_timeout")[0]
            tx.execute(f"PRAGMA busy_timeout = {WAIT_MS}")
            try:
                busy, log, done = tx.query("PRAGMA wal_checkpoint(TRUNCATE)")[0].values()
            finally:
                tx.execute(f"PRAGMA busy_timeout = {int(next(iter(previous.values())))}")
        if busy == 0:
            return
        if time.monotonic() >= deadline:
            raise WalBusy(f"a reader held the database for {seconds:.0f} s: {done} of {log} "
                          "log frames checkpointed, the log not truncated")
        time.sleep(0.1)
