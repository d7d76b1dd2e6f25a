"""Feeds views in order from the event store's notification log (the embedded default).

Each view reads only the event types it handles and records the global position it reached
in the same transaction as its rows.  ``catch_up`` is safe to call from many threads and
processes: a view's batches apply under a lock here, and the version bookkeeping in
:func:`projections.base.apply_events` makes a batch applied twice change nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from projections.base import (
    View,
    apply_events,
    create_tracking,
    position,
    readable,
    save_position,
)
from projections.source import EventSource
from services.tables import ServiceTables

BATCH = 500
log = logging.getLogger("trainledger.projections")


class LogFeed:
    def __init__(self, app: EventSource, db: ServiceTables, views: Sequence[View]) -> None:
        self.app = app
        self.db = db
        self.views = {view.name: view for view in views}
        self._locks = {view.name: threading.Lock() for view in views}
        #: called before each batch (the services side takes in erasures made elsewhere)
        self.before_batch: Callable[[], None] = lambda: None
        create_tracking(db)
        for view in views:
            view.create(db)

    def unread(self) -> dict[str, int]:
        """Events in the store that each view has not read yet (of any type)."""
        head = int(self.app.recorder.max_notification_id() or 0)
        return {name: head - position(self.db, name) for name in self.views}

    def lag(self) -> dict[str, int]:
        """What each view has not read yet, plus the work it deferred (``View.pending``)."""
        return {name: unread + self.views[name].pending(self.db)
                for name, unread in self.unread().items()}

    def catch_up(self, view: View, until: int | None = None) -> int:
        """Apply what the view has not seen, up to ``until`` (default: the head)."""
        applied = 0
        with self._locks[view.name]:
            start = position(self.db, view.name)
            stop = until if until is not None else int(self.app.recorder.max_notification_id()
                                                        or 0)
            while start < stop:
                self.before_batch()
                batch = self.app.recorder.select_notifications(
                    start=start, limit=BATCH, stop=stop, topics=view.selects(),
                    inclusive_of_start=False,
                )
                end = batch[-1].id if len(batch) == BATCH else stop
                items = readable(self.app, [n for n in batch if view.wants(n.topic)])
                view.prepare([item.event for item in items if item.event is not None])
                with self.db.transaction() as tx:
                    applied += apply_events(tx, view, items)
                    save_position(tx, view.name, end)
                start = end
        return applied

    def catch_up_all(self) -> int:
        self.before_batch()  # also when idle: rows a batch in flight wrote back go
        return sum(self.catch_up(view) for view in self.views.values())

    def idle(self) -> None:
        """Let every view finish deferred work once it has caught up (``View.idle``)."""
        for view in self.views.values():
            view.idle(self.db)


class LogFeedWorker(threading.Thread):
    """Keeps every view caught up: wakes on each save (``wake``) or every ``interval`` s."""

    def __init__(self, feed: LogFeed, interval: float = 0.5) -> None:
        super().__init__(name="trainledger-log-feed", daemon=True)
        self.feed = feed
        self.interval = interval
        self.wake = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.feed.catch_up_all()
                self.feed.idle()
            except Exception:  # keep serving: the next round retries from the stored position
                log.exception("projection feed failed; retrying")
                self.stopping.wait(self.interval)
            self.wake.wait(self.interval)
            self.wake.clear()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.join(timeout=10)
