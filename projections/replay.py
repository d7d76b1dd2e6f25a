"""Rebuild views from the event store: the whole history, or what was recorded by a moment.

The notification log is read in order, in large chunks, once, and every athlete's aggregates
are folded in memory from it.  A view that can (``View.rebuild``: ``load``, ``analytics``)
is then written at once from those aggregates, with no second read of the store; any other
view applies the events chunk by chunk, as the live feed does.  The target is a scratch
database by default, so a replay never touches the live views, and ``--until`` answers what
the views said then: events recorded by that moment (a bare date: the end of that day in
each athlete's time zone), evaluated for that day, exactly as the API's ``as_of``.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from projections import dead_letters
from projections.analytics import parse_as_of
from projections.base import (
    View,
    apply_events,
    create_tracking,
    forget,
    readable,
    save_position,
)
from projections.directory import CREATIONS
from projections.history import KINDS, AthleteHistory, assemble
from projections.parallel_replay import NotPartitionable, Parallel, rebuild_in_parts
from projections.source import CHUNK, Delivery, EventSource, describe, stored_chunks
from services.tables import ServiceTables

log = logging.getLogger("trainledger.projections")


@dataclass
class Folded:
    """Every athlete's aggregates, folded in memory from a stream of domain events.

    With ``until``, each event counts only if recorded by that moment for its athlete
    (``parse_as_of`` in the athlete's time zone); later events of an aggregate stop there.
    """

    until: str | None = None
    aggregates: dict[UUID, Any] = field(default_factory=dict)
    kinds: dict[UUID, str] = field(default_factory=dict)
    owners: dict[UUID, UUID] = field(default_factory=dict)
    _cutoffs: dict[tuple[UUID, str], datetime | None] = field(default_factory=dict)

    def cutoff(self, athlete_id: UUID, zone: str) -> datetime:
        """``until`` as an instant for that athlete and zone (computed once)."""
        key = (athlete_id, zone)
        if key not in self._cutoffs:
            self._cutoffs[key] = parse_as_of(self.until, zone)[0]
        return self._cutoffs[key]  # type: ignore[return-value]

    def add(self, event: Any) -> bool:
        """Fold one event; False if it does not count (coach, not yet recorded, gap)."""
        entity = event.originator_id
        made = CREATIONS.get(type(event))
        if made is None:  # the common case: a change to an aggregate folded already
            aggregate = self.aggregates.get(entity)
            if aggregate is None or event.originator_version != aggregate.version + 1:
                return False
            if self.until is not None and self._late(event, self.owners[entity]):
                return False
            event.mutate(aggregate)
            return True
        kind, describe = made
        if kind == "coach":
            return False
        owner = UUID(describe(event)[0])
        if kind != "athlete" and owner not in self.aggregates:
            return False
        if self.until is not None and self._late(event, owner):
            return False
        self.aggregates[entity] = event.mutate(None)
        self.kinds[entity], self.owners[entity] = kind, owner
        return True

    def _late(self, event: Any, owner: UUID) -> bool:
        """Recorded after ``until`` in its athlete's time zone (for an athlete's own first
        event, the zone it registers with)."""
        athlete = self.aggregates.get(owner)
        zone = athlete.profile["timezone"] if athlete is not None else (
            event.profile.get("timezone") or "UTC")
        return bool(event.timestamp > self.cutoff(owner, str(zone)))

    def histories(self) -> Iterator[AthleteHistory]:
        owned: dict[UUID, list[tuple[str, Any]]] = defaultdict(list)
        athletes = []
        for entity, kind in self.kinds.items():
            if kind == "athlete":
                athletes.append(entity)
            else:
                owned[self.owners[entity]].append((kind, self.aggregates[entity]))
        for entity in sorted(athletes, key=str):
            athlete = self.aggregates[entity]
            cut = self.cutoff(entity, str(athlete.profile["timezone"])) \
                if self.until is not None else None
            yield assemble(athlete, owned[entity], cut)

    def owned_rows(self) -> list[tuple[str, str, str]]:
        return [(str(e), k, str(self.owners[e])) for e, k in self.kinds.items() if k in KINDS]

    def of_kind(self, kind: str) -> Iterator[Any]:
        return (self.aggregates[e] for e, k in self.kinds.items() if k == kind)


def fold_or_park(folded: Folded, item: Delivery, held: set[str], target: ServiceTables,
          views: Sequence[View]) -> bool:
    """Fold one event, or park it as the live feed does: it can't be read or folded, or its
    athlete has a parked event already."""
    error = item.error
    if item.owner not in held and item.event is not None:
        try:
            return folded.add(item.event)
        except Exception as exc:
            error = describe(exc)
    wanting = [view for view in views if view.wants(item.stored.topic)]
    if wanting:
        held.add(item.owner)
        with target.transaction() as tx:
            for view in wanting:
                dead_letters.park(tx, view.name, item, error)
    return False


@dataclass
class ReplayResult:
    view: str
    events: int  # events read from the log (all types)
    seconds: float
    content_hash: str
    processes: int = 1  # more: the athletes were split between processes


def notifications(store: EventSource, chunk: int = CHUNK) -> Iterator[list[Delivery]]:
    """The whole log as deliveries (domain events, or why not), in order, a chunk at a
    time."""
    head = int(store.recorder.max_notification_id() or 0)
    for batch in stored_chunks(store, head, chunk):
        yield readable(store, batch)


def replay(store: EventSource, target: ServiceTables, views: Sequence[View],
           until: str | None = None,
           progress: Callable[[int, int, float], None] = lambda done, total, secs: None,
           hashes: bool = True, source: Iterable[list[Any]] | None = None,
           total: int | None = None, parallel: Parallel | None = None) -> list[ReplayResult]:
    """Rebuild ``views`` into ``target`` (forgotten first) from the whole log of ``store``,
    or from ``source`` (chunks of deliveries, e.g. the Kafka topic, ``total`` of them);
    with ``hashes``, each result carries the rebuilt view's content hash.  ``parallel``:
    split the athletes between processes where it can (:mod:`projections.parallel_replay`)."""
    create_tracking(target)
    for view in views:
        view.create(target)
        with target.transaction() as tx:
            forget(tx, view)
    # The fold builds millions of long-lived objects: the cyclic garbage collector would scan
    # them again and again (1M events: about a third of the time); refcounting frees the rest.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if parallel is not None and parallel.parts > 1 and source is None and all(
                type(v).rebuild is not View.rebuild for v in views):
            try:
                return _replay_in_parts(store, target, views, until, progress, hashes,
                                        parallel)
            except NotPartitionable as exc:
                log.info("rebuilding in one process: %s", exc)
        return _replay(store, target, views, until, progress, hashes, source, total)
    finally:
        if collecting:
            gc.enable()


def _replay_in_parts(store: EventSource, target: ServiceTables, views: Sequence[View],
                     until: str | None, progress: Callable[[int, int, float], None],
                     hashes: bool, parallel: Parallel) -> list[ReplayResult]:
    head = int(store.recorder.max_notification_id() or 0)
    began = time.perf_counter()
    done = rebuild_in_parts(parallel, head, target, views, until, progress)
    with target.transaction() as tx:
        for view in views:
            save_position(tx, view.name, head)
    seconds = time.perf_counter() - began
    return [ReplayResult(v.name, done, seconds, v.content_hash(target) if hashes else "",
                         parallel.parts) for v in views]


def _replay(store: EventSource, target: ServiceTables, views: Sequence[View], until: str | None,
            progress: Callable[[int, int, float], None], hashes: bool,
            source: Iterable[list[Delivery]] | None, total: int | None) -> list[ReplayResult]:
    stepwise = [v for v in views if type(v).rebuild is View.rebuild]
    folded = Folded(until)
    head = int(store.recorder.max_notification_id() or 0)
    began = time.perf_counter()
    done = 0
    held: set[str] = set()  # athletes with a parked event: the rest of theirs waits
    for items in notifications(store) if source is None else source:
        done += len(items)
        counted = [item for item in items if fold_or_park(folded, item, held, target, views)]
        for view in stepwise:
            mine = [item for item in counted if isinstance(item.event, view.handles)]
            view.prepare([item.event for item in mine])
            with target.transaction() as tx:
                apply_events(tx, view, mine)
        progress(done, head if total is None else total, time.perf_counter() - began)
    with target.transaction() as tx:
        for view in views:
            if view not in stepwise:
                view.rebuild(tx, folded)
    with target.transaction() as tx:
        for view in views:
            save_position(tx, view.name, head)
    seconds = time.perf_counter() - began
    return [ReplayResult(v.name, done, seconds, v.content_hash(target) if hashes else "")
            for v in views]
