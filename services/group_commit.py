"""Group commit for bulk imports: the files of a batch share one transaction.

Each item (a file's request, events, stored-file reference and decision) runs in a savepoint
of a shared transaction (:mod:`services.shared_transaction`) committed every ``files``
items or ``seconds``, whichever comes first: one commit (one fsync) for the batch instead of
several per file.  An item that raises is undone alone; what its batch-mates did is
committed before the error goes on.  A process killed mid-batch loses only the uncommitted
batch, which a run again simply redoes (archive requests are keyed by content).  The feed
and the relay are woken once per commit.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import TracebackType

from services.application import TrainingLog
from services.tables import ServiceTables

BATCH_FILES = 64
BATCH_SECONDS = 0.25  # other writers (API, view feed) wait at most about this long


class GroupCommit:
    """``with GroupCommit(app, tables) as group: ... with group.item(): ...``"""

    def __init__(self, app: TrainingLog, tables: ServiceTables, files: int = BATCH_FILES,
                 seconds: float = BATCH_SECONDS) -> None:
        self.app = app
        self.tables = tables
        self.files = files
        self.seconds = seconds
        self._open: ExitStack | None = None
        self._count = 0
        self._started = 0.0

    def __enter__(self) -> GroupCommit:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.commit()  # what was done is kept, whatever stopped the batch

    @contextmanager
    def item(self) -> Iterator[None]:
        """One file's work: undone alone if it raises (the batch so far is then committed
        and the error raised); the batch is committed when full or old enough."""
        if self._open is None:
            self._open = ExitStack()
            self._open.enter_context(self.tables.shared_transaction())
            self._count, self._started = 0, time.monotonic()
        try:
            with self.tables.shared.savepoint():
                yield
        except BaseException:
            self.app.forget_cached()
            self.commit()
            raise
        self._count += 1
        if self._count >= self.files or time.monotonic() - self._started >= self.seconds:
            self.commit()

    def commit(self) -> None:
        """Commit the open batch, if any, and wake the feed and the relay."""
        if self._open is None:
            return
        batch, self._open = self._open, None
        try:
            batch.close()
        except BaseException:
            self.app.forget_cached()  # it may hold states never committed
            raise
        self.app.wake()
