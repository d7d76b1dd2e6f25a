"""Common ground of all aggregates: who recorded a fact, when it happened, and idempotency.

Every event carries ``occurred_at`` (when it happened in the athlete's life), ``source``
(who or what recorded it) and, through the library's ``timestamp``, ``recorded_at``.
A client's idempotency key travels in ``source`` as ``request_id`` (plus a fingerprint of the
request), so that an aggregate can recognise a retried command atomically, with no side table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from eventsourcing.domain import Aggregate

from services.domain.errors import RequestKeyReused

SourceKind = Literal["athlete", "coach", "admin", "device", "system"]

A = TypeVar("A", bound="TrainingAggregate")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Source:
    """Who recorded a fact: a principal (with the token used), or a device import."""

    kind: SourceKind
    principal_id: str | None = None
    token_id: str | None = None
    import_id: str | None = None
    file_hash: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Context:
    """Everything about a command that is not its payload.

    ``recorded_at`` is normally now; importers and the demo seeder set it to when the fact
    was (or would have been) entered.  ``request_id``/``fingerprint`` come from an
    ``Idempotency-Key`` header.
    """

    source: Source
    request_id: str | None = None
    fingerprint: str | None = None
    recorded_at: datetime | None = None
    now: datetime = field(default_factory=utcnow)

    def source_dict(self) -> dict[str, str]:
        data = self.source.as_dict()
        if self.request_id:
            data["request_id"] = self.request_id
            data["fingerprint"] = self.fingerprint or ""
        return data


class TrainingAggregate(Aggregate):
    """Base aggregate: records facts with their context and remembers request ids."""

    if TYPE_CHECKING:  # plain attributes, not dataclass fields
        requests: dict[str, str]

    class Event(Aggregate.Event):
        occurred_at: datetime
        source: dict[str, str]

        @property
        def recorded_at(self) -> datetime:
            return self.timestamp

        def mutate(self, aggregate: Any) -> Any:
            agg = super().mutate(aggregate)
            assert agg is not None
            if not hasattr(agg, "requests"):
                agg.requests = {}
            request_id = self.source.get("request_id")
            if request_id:
                agg.requests[request_id] = self.source.get("fingerprint", "")
            return agg

    class Created(Event, Aggregate.Created):
        """Base of every aggregate's first event."""

    def seen_request(self, ctx: Context) -> bool:
        """True when this command was already applied (a retry); raises if the key was reused."""
        if ctx.request_id is None or ctx.request_id not in self.requests:
            return False
        if self.requests[ctx.request_id] != (ctx.fingerprint or ""):
            raise RequestKeyReused(
                "Idempotency-Key was already used for a different request", "Idempotency-Key"
            )
        return True

    def _record(
        self,
        event_class: type[TrainingAggregate.Event],
        ctx: Context,
        occurred_at: datetime | None = None,
        **fields: Any,
    ) -> None:
        self.trigger_event(
            event_class,
            occurred_at=occurred_at or ctx.recorded_at or ctx.now,
            source=ctx.source_dict(),
            timestamp=ctx.recorded_at,
            **fields,
        )

    @classmethod
    def _start(
        cls: type[A],
        event_class: type[Aggregate.Created],
        ctx: Context,
        aggregate_id: Any,
        occurred_at: datetime | None = None,
        **fields: Any,
    ) -> A:
        return cls._create(
            event_class,
            id=aggregate_id,
            occurred_at=occurred_at or ctx.recorded_at or ctx.now,
            source=ctx.source_dict(),
            timestamp=ctx.recorded_at,
            **fields,
        )
