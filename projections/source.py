"""What the read side reads from the event store: the narrow interface projections depend on.

Projections never see the write side's application.  They read the notification log and one
aggregate's stored events through a ``recorder``, and turn stored events into domain events
through a ``mapper``; the eventsourcing ``Application`` (``services.application.TrainingLog``)
has both, so it satisfies :class:`EventSource` as it is, and the services side passes it in.

A stored event of an erased athlete cannot be read: its ``to_domain_event`` raises the key
ring's ``KeyErased``.  :func:`deliver` and :func:`domain_event` turn that into ``None`` (and
:func:`deliveries` leaves the event out), so no other projection module handles it; any
other failure to read an event is a :class:`Delivery` with its error, for the view to park.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from services.keyring import KeyErased

CHUNK = 5000  # notifications read at a time


class EventRecorder(Protocol):
    """Reads the store: the notification log in order, and one aggregate's events."""

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]: ...

    def max_notification_id(self) -> int | None: ...

    def select_events(self, originator_id: UUID, /) -> Sequence[StoredEvent]: ...


class EventMapper(Protocol):
    """Turns a stored event into its domain event (raises ``KeyErased`` if erased)."""

    def to_domain_event(self, stored_event: StoredEvent, /) -> Any: ...

    def sealed_owner(self, stored_event: StoredEvent, /) -> str | None: ...


class EventSource(Protocol):
    """The event store as the read side sees it."""

    @property
    def recorder(self) -> EventRecorder: ...

    @property
    def mapper(self) -> EventMapper: ...


@dataclass
class Delivery:
    """A stored event on its way to a view: its domain event, or why it can't be read.

    ``owner`` is the athlete (or coach) the event belongs to: a view that fails on an event
    parks that owner's later events behind it (:mod:`projections.dead_letters`)."""

    stored: StoredEvent
    owner: str
    event: Any | None
    error: str | None = None


def describe(exc: BaseException) -> str:
    """An exception as one line for an operator (type and message, bounded)."""
    return f"{type(exc).__name__}: {exc}"[:500]


def deliver(source: EventSource, stored: StoredEvent) -> Delivery | None:
    """One stored event for a view; None if its athlete was erased (nothing to read)."""
    sealed = source.mapper.sealed_owner(stored)
    try:
        event = source.mapper.to_domain_event(stored)
    except KeyErased:
        return None
    except Exception as exc:  # a corrupt payload, a type this version doesn't know...
        return Delivery(stored, sealed or str(stored.originator_id), None, describe(exc))
    owner = sealed or str(getattr(event, "athlete_id", None) or stored.originator_id)
    return Delivery(stored, owner, event)


def deliveries(source: EventSource, stored: Iterable[StoredEvent]) -> list[Delivery]:
    """Stored events for a view, in order, leaving out those of erased athletes."""
    return [d for d in (deliver(source, item) for item in stored) if d is not None]


def domain_event(source: EventSource, stored: StoredEvent) -> Any | None:
    """The domain event of a stored event; None if its athlete's data was erased."""
    try:
        return source.mapper.to_domain_event(stored)
    except KeyErased:
        return None


def stored_chunks(store: EventSource, head: int,
                  chunk: int = CHUNK) -> Iterator[Sequence[Notification]]:
    """The notification log up to ``head`` as stored (nothing decoded), ``chunk`` at a
    time, in order."""
    start = 0
    while start < head:
        batch = store.recorder.select_notifications(start=start, limit=chunk, stop=head,
                                                    inclusive_of_start=False)
        if not batch:
            return
        start = batch[-1].id
        yield batch
