"""Stored event payloads encrypted with their athlete's key: erasure without rewriting history.

The library's cipher takes one key for the whole application; this mapper picks the key of
the athlete each event belongs to (:class:`~services.keyring.KeyRing`, the same key that seals
the topic's copies), so destroying that key makes every stored payload of that athlete
unreadable, in the store, on the topic and in any backup holding the store but not the key.

Stored state: ``b"tl1:" + owner id + b":" + nonce + AES-256-GCM ciphertext``, the event's
aggregate id and version as associated data (a payload cannot be moved to another event).
The owner is in clear: it names the key, nothing more.  Payloads stored without the prefix
(before this mapper, or by an application without a key ring) are read as they are.
Coach accounts, which belong to no athlete, use a key of their own aggregate.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from services.keyring import KeyRing

PREFIX = b"tl1:"
OWNER_CACHE = 200_000


class OwnerUnknown(LookupError):
    """An event whose aggregate was never saved through ``TrainingLog.save``."""


class AthleteKeyMapper(Mapper[UUID]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys: KeyRing | None = None  # set once the service tables exist
        self._owners: OrderedDict[UUID, str] = OrderedDict()

    def remember(self, aggregate_id: UUID, owner_id: str) -> None:
        """Whose key protects this aggregate's events (the application tells before saving)."""
        self._owners[aggregate_id] = owner_id
        self._owners.move_to_end(aggregate_id)
        if len(self._owners) > OWNER_CACHE:
            self._owners.popitem(last=False)

    def _owner(self, event: Any) -> str:
        owner = self._owners.get(event.originator_id)
        if owner is None:
            owner = getattr(event, "athlete_id", None)
        if owner is None:
            raise OwnerUnknown(f"no key owner known for aggregate {event.originator_id}")
        return str(owner)

    @staticmethod
    def _associated(originator_id: UUID | str, version: int) -> bytes:
        return f"{originator_id}/{version}".encode()

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        stored = super().to_stored_event(domain_event)
        if self.keys is None:
            return stored
        owner = self._owner(domain_event)
        sealed = self.keys.encrypt(owner, stored.state, self._associated(
            stored.originator_id, stored.originator_version))
        return StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                           PREFIX + owner.encode() + b":" + sealed)

    @staticmethod
    def sealed_owner(stored: StoredEvent) -> str | None:
        """Whose key seals this stored payload (None: stored in clear, before this mapper)."""
        state: bytes = stored.state
        if not state.startswith(PREFIX):
            return None
        end = state.find(b":", len(PREFIX))
        return state[len(PREFIX):end].decode(errors="replace") if end > 0 else None

    def plain_state(self, stored: StoredEvent | Any) -> bytes:
        """The payload as the transcoder wrote it; raises KeyErased for an erased athlete."""
        state: bytes = stored.state
        if not state.startswith(PREFIX):
            return state
        if self.keys is None:
            raise RuntimeError("an encrypted event store needs the key ring (open_runtime)")
        end = state.index(b":", len(PREFIX))
        owner = state[len(PREFIX):end].decode()
        return self.keys.decrypt(owner, state[end + 1:], self._associated(
            stored.originator_id, stored.originator_version))

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        if stored_event.state.startswith(PREFIX):
            stored_event = StoredEvent(stored_event.originator_id,
                                       stored_event.originator_version, stored_event.topic,
                                       self.plain_state(stored_event))
        return super().to_domain_event(stored_event)


def owner_of(aggregate: Any) -> str:
    """The key owner of an aggregate: its athlete, or itself (athletes, coaches)."""
    return str(getattr(aggregate, "athlete_id", None) or aggregate.id)
