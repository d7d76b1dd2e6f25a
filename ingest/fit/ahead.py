"""Decoding and planning the files of a large archive ahead, in a worker process, while this
process records the files before them.

Decoding and planning (:func:`ingest.fit.importer.prepare`) are pure and take about half of
a file's import; recording (the database) stays in this process, in order, through the
intake as for any file.  Files are handed to the worker a few ahead; the result is given to
the ``fit`` handler (:class:`ingest.fit.importer.FitHandler`) just before its file is
imported.  A result not ready by then is not waited for: the handler decodes the file itself,
so the worker can only save time.  The worker starts past the first ``start_after`` files (a
small import is not worth a process).
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from types import TracebackType

from ingest.fit.archive import Entry
from ingest.fit.importer import FitHandler, Prepared, prepare

AHEAD = 8
AHEAD_BYTES = 16 * 1024 * 1024  # at most this much file data held ahead (besides one file)
START_AFTER = 32


class DecodeAhead:
    """``with DecodeAhead(handler, salvage) as ahead: for entry in ahead.entries(...)``"""

    def __init__(self, handler: FitHandler, salvage: bool, ahead: int = AHEAD,
                 start_after: int = START_AFTER, patient: bool = False) -> None:
        """``patient``: wait for each result rather than leave the file to the handler."""
        self.handler = handler
        self.patient = patient
        self.salvage = salvage
        self.ahead = ahead
        self.start_after = start_after
        self.pool: ProcessPoolExecutor | None = None
        self._given: tuple[str, str, bool] | None = None
        self.used = 0  # results the handler was given
        self.broken = False

    def __enter__(self) -> DecodeAhead:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._take_back()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def entries(self, entries: Iterable[Entry]) -> Iterator[Entry]:
        """``entries`` in their order, the FIT ones past the first ``start_after`` decoded
        ahead (at most ``ahead`` entries and ``AHEAD_BYTES`` held)."""
        window: deque[tuple[Entry, Future[Prepared] | None]] = deque()
        seen = held = 0
        for entry in entries:
            future = None
            if entry.status == "fit":
                seen += 1
                if seen > self.start_after and not self.broken:
                    try:
                        future = self._pool().submit(prepare, entry.name, entry.data,
                                                     self.salvage)
                    except (BrokenExecutor, OSError):  # the worker died: decode here
                        self.broken = True
            window.append((entry, future))
            held += len(entry.data)
            while len(window) > self.ahead or held > AHEAD_BYTES:
                held -= len(window[0][0].data)
                yield self._give(*window.popleft())
        while window:
            yield self._give(*window.popleft())

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:  # forkserver: a clean process, not a fork of this threaded one
            self.pool = ProcessPoolExecutor(1, multiprocessing.get_context("forkserver"))
        return self.pool

    def _give(self, entry: Entry, future: Future[Prepared] | None) -> Entry:
        self._take_back()
        if future is not None and (self.patient or (not future.cancel() and future.done())):
            try:
                prepared = future.result()
            except Exception:  # the handler decodes the file itself, and answers the error
                return entry
            self._given = (entry.name, prepared.sha256, self.salvage)
            self.handler.ready[self._given] = prepared
            self.used += 1
        return entry

    def _take_back(self) -> None:
        """The previous entry's result, if its file did not use it (decided before)."""
        if self._given is not None:
            self.handler.ready.pop(self._given, None)
            self._given = None
