"""Erasures made by another process, taken in before a worker's next batch.

A worker that cached an athlete's key would go on reading their events after the erasure:
the projection worker wrote view rows back, the relay published.  Before each batch the
worker's watch refreshes the key ring (a ``stat`` of the key file when nothing changed); for
each athlete erased since its last call it deletes the athlete's rows from its views, which
also removes rows a batch in flight during the erasure committed after it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from projections.base import View
from services.keyring import KeyRing
from services.tables import ServiceTables


class ErasureWatch:
    def __init__(self, keys: KeyRing, db: ServiceTables, views: Iterable[View]) -> None:
        self.keys = keys
        self.db = db
        self.views = list(views)
        self.seen = len(keys.erased)
        self._lock = threading.Lock()  # the log feed calls it from reading threads too

    def __call__(self) -> None:
        self.keys.refresh()
        if len(self.keys.erased) == self.seen:
            return
        with self._lock:
            end = len(self.keys.erased)
            erased = self.keys.erased[self.seen:end]
            if erased and self.views:
                with self.db.transaction() as tx:
                    for athlete_id in erased:
                        for view in self.views:
                            view.forget_athlete(tx, athlete_id)
            self.seen = end
