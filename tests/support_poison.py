"""Poison events: stored events a view can't take, appended to a real store as a faulty
writer (an older version, a newer one, a damaged disk) could have left them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from services.keyed_mapper import PREFIX
from services.runtime import Runtime

SET_LOGGED = "services.domain.session:TrainingSession.SetLogged"
FUTURE_TOPIC = "services.domain.session:TrainingSession.SetLoggedByANewerVersion"


def _append(rt: Runtime, aggregate_id: str, topic: str, state: bytes) -> StoredEvent:
    """Append one stored event to the aggregate's stream (next version), as written."""
    last = rt.app.recorder.select_events(UUID(aggregate_id), desc=True, limit=1)[0]
    stored = StoredEvent(UUID(aggregate_id), last.originator_version + 1, topic, state)
    rt.app.recorder.insert_events([stored])
    return stored


def _sealed(rt: Runtime, owner: str, aggregate_id: str, version: int, plain: bytes) -> bytes:
    associated = f"{aggregate_id}/{version}".encode()
    return PREFIX + owner.encode() + b":" + rt.keys.encrypt(owner, plain, associated)


def _next_version(rt: Runtime, aggregate_id: str) -> int:
    last = rt.app.recorder.select_events(UUID(aggregate_id), desc=True, limit=1)[0]
    return int(last.originator_version) + 1


def unreadable(rt: Runtime, athlete_id: str, session_id: str) -> StoredEvent:
    """A damaged payload: its ciphertext fails authentication."""
    return _append(rt, session_id, SET_LOGGED,
                   PREFIX + athlete_id.encode() + b":" + os.urandom(64))


def _set_payload(rt: Runtime, session_id: str, change: Callable[[dict[str, Any]], None]) -> bytes:
    """The payload of the session's first set, changed."""
    first = next(e for e in rt.app.recorder.select_events(UUID(session_id))
                 if e.topic == SET_LOGGED)
    state = json.loads(rt.app.mapper.plain_state(first))
    change(state)
    return json.dumps(state).encode()


def of_unknown_type(rt: Runtime, athlete_id: str, session_id: str) -> StoredEvent:
    """An event type this version doesn't know (written by a newer one): a copy of the
    session's first set under a topic nothing defines."""
    plain = _set_payload(rt, session_id, lambda s: None)
    version = _next_version(rt, session_id)
    return _append(rt, session_id, FUTURE_TOPIC,
                   _sealed(rt, athlete_id, session_id, version, plain))


def unfoldable(rt: Runtime, athlete_id: str, session_id: str) -> StoredEvent:
    """A set without its id: it reads, but applying it to the session fails."""
    plain = _set_payload(rt, session_id, lambda s: s.pop("set_id"))
    version = _next_version(rt, session_id)
    return _append(rt, session_id, SET_LOGGED,
                   _sealed(rt, athlete_id, session_id, version, plain))


POISONS = {"unreadable": unreadable, "unknown type": of_unknown_type,
           "unfoldable": unfoldable}
