"""What the read side reads from the event store: the narrow interface projections depend on.

Projections never see the write side's application.  They read the notification log and one
aggregate's stored events through a ``recorder``, and turn stored events into domain events
through a ``mapper``; the eventsourcing ``Application`` (``services.application.TrainingLog``)
has both, so it satisfies :class:`EventSource` as it is, and the services side passes it in.

A stored event of an erased athlete cannot be read: its ``to_domain_event`` raises the key
ring's ``KeyErased``.  :func:`domain_event` and :func:`domain_events` turn that into ``None``
(or leave the event out), so no other projection module handles it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from services.keyring import KeyErased


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


class EventSource(Protocol):
    """The event store as the read side sees it."""

    @property
    def recorder(self) -> EventRecorder: ...

    @property
    def mapper(self) -> EventMapper: ...


def domain_event(source: EventSource, stored: StoredEvent) -> Any | None:
    """The domain event of a stored event; None if its athlete's data was erased."""
    try:
        return source.mapper.to_domain_event(stored)
    except KeyErased:
        return None


def domain_events(source: EventSource, stored: Iterable[StoredEvent]) -> list[Any]:
    """Stored events as domain events, leaving out those of erased athletes."""
    out = []
    for item in stored:
        event = domain_event(source, item)
        if event is not None:
            out.append(event)
    return out

