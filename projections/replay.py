"""Rebuild views from the event store: the whole history, or what was recorded by a moment.

The notification log is read in order, in large chunks, once.  Incremental views (``load``)
apply each chunk in one transaction; the analytic views fold every athlete's aggregates in
memory from the same events (no second read of the store) and are computed once per athlete
at the end.  The target is a scratch database by default, so a replay never touches the live
views, and ``--until`` answers what the views said then: events recorded by that moment (a
bare date: the end of that day in each athlete's time zone), evaluated for that day, exactly
as the API's ``as_of``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from projections.analytics import last_day, parse_as_of
from projections.base import View, apply_events, create_tracking, forget, save_position
from projections.directory import CREATIONS
from projections.history import KINDS, AthleteHistory, assemble
from projections.snapshots import AnalyticsView
from services.application import TrainingLog
from services.domain.athlete import Athlete
from services.tables import ServiceTables

CHUNK = 5000


@dataclass
class Folded:
    """Every athlete's aggregates, folded in memory from a stream of domain events.

    With ``until``, each event counts only if recorded by that moment for its athlete
    (``parse_as_of`` in the athlete's time zone); later events of an aggregate stop there.
    """

    until: str | None = None
    aggregates: dict[str, Any] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    _cutoffs: dict[tuple[str, str], datetime | None] = field(default_factory=dict)

    def cutoff(self, athlete: Athlete | None) -> datetime | None:
        if self.until is None or athlete is None:
            return None
        tz = str(athlete.profile["timezone"])
        key = (str(athlete.id), tz)
        if key not in self._cutoffs:
            self._cutoffs[key] = parse_as_of(self.until, tz)[0]
        return self._cutoffs[key]

    def add(self, event: Any) -> bool:
        """Fold one event; False if it does not count (coach, not yet recorded, gap)."""
        entity = str(event.originator_id)
        made = CREATIONS.get(type(event))
        if made is not None:
            kind, describe = made
            if kind == "coach":
                return False
            owner = describe(event)[0]
            athlete = self.aggregates.get(owner)
            if kind == "athlete":
                cut = parse_as_of(self.until, event.profile.get("timezone") or "UTC")[0] \
                    if self.until is not None else None
            else:
                cut = self.cutoff(athlete)
            if (cut is not None and event.timestamp > cut) or (kind != "athlete"
                                                               and athlete is None):
                return False
            self.aggregates[entity] = event.mutate(None)
            self.kinds[entity], self.owners[entity] = kind, owner
            return True
        aggregate = self.aggregates.get(entity)
        if aggregate is None or event.originator_version != aggregate.version + 1:
            return False
        cut = self.cutoff(self.aggregates.get(self.owners[entity]))
        if cut is not None and event.timestamp > cut:
            return False
        event.mutate(aggregate)
        return True

    def histories(self) -> Iterator[AthleteHistory]:
        owned: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for entity, kind in self.kinds.items():
            if kind != "athlete":
                owned[self.owners[entity]].append((kind, self.aggregates[entity]))
        for entity, kind in sorted(self.kinds.items()):
            if kind == "athlete":
                cut = self.cutoff(self.aggregates[entity])
                yield assemble(self.aggregates[entity], owned[entity], cut)

    def owned_rows(self) -> list[tuple[str, str, str]]:
        return [(e, k, self.owners[e]) for e, k in sorted(self.kinds.items()) if k in KINDS]


@dataclass
class ReplayResult:
    view: str
    events: int  # events read from the log (all types)
    seconds: float
    content_hash: str


def notifications(app: TrainingLog, chunk: int = CHUNK) -> Iterator[list[Any]]:
    """The whole log as domain events, in order, a chunk at a time."""
    start, head = 0, int(app.recorder.max_notification_id() or 0)
    while start < head:
        batch = app.recorder.select_notifications(start=start, limit=chunk, stop=head,
                                                  inclusive_of_start=False)
        if not batch:
            break
        start = batch[-1].id
        yield [app.mapper.to_domain_event(n) for n in batch]


def replay(app: TrainingLog, target: ServiceTables, views: Sequence[View],
           until: str | None = None,
           progress: Callable[[int, int, float], None] = lambda done, total, secs: None,
           ) -> list[ReplayResult]:
    """Rebuild ``views`` into ``target`` (forgotten first) from the whole log."""
    create_tracking(target)
    for view in views:
        view.create(target)
        with target.transaction() as tx:
            forget(tx, view)
    incremental = [v for v in views if not isinstance(v, AnalyticsView)]
    analytic = [v for v in views if isinstance(v, AnalyticsView)]
    folded = Folded(until)
    head = int(app.recorder.max_notification_id() or 0)
    began = time.perf_counter()
    done = 0
    for events in notifications(app):
        done += len(events)
        counted = [e for e in events if folded.add(e)]
        for view in incremental:
            mine = [e for e in counted if isinstance(e, view.handles)]
            with target.transaction() as tx:
                apply_events(tx, view, mine)
        progress(done, head, time.perf_counter() - began)
    for view in analytic:
        with target.transaction() as tx:
            for row in folded.owned_rows():
                tx.execute(f"INSERT INTO {tx.name('tl_analytics_owned')} (entity_id, kind, "
                           "athlete_id) VALUES (%s, %s, %s)", row)
            for history in folded.histories():
                _, day = parse_as_of(until, history.timezone) if until else (None,
                                                                            last_day(history))
                view.write(tx, history.athlete_id, day, history)
    with target.transaction() as tx:
        for view in views:
            save_position(tx, view.name, head)
    seconds = time.perf_counter() - began
    return [ReplayResult(v.name, done, seconds, v.content_hash(target)) for v in views]
