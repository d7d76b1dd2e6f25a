"""Aggregate states as JSON, so the read model can apply each event to the state it changes.

The read model keeps the current state of each of an athlete's aggregates (the athlete,
sessions, plans, goals, observations) and applies every event with the domain's own
``mutate``: the read side folds nothing from the store, and an event costs the size of the
aggregate it changes.  Types JSON lacks are tagged: datetimes, dates, UUIDs and sets.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

_SKIP = ("_pending_events", "requests")  # write-side bookkeeping the views never read


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, UUID):
        return {"$u": str(value)}
    if isinstance(value, set | frozenset):
        return {"$s": sorted((_encode(v) for v in value), key=str)}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, inner),) = value.items()
            if tag == "$dt":
                return datetime.fromisoformat(inner)
            if tag == "$d":
                return date.fromisoformat(inner)
            if tag == "$u":
                return UUID(inner)
            if tag == "$s":
                return {_decode(v) for v in inner}
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def encode_state(aggregate: Any) -> str:
    state = {k: v for k, v in vars(aggregate).items() if k not in _SKIP}
    return json.dumps(_encode(state), separators=(",", ":"))  # dict order is meaningful


def decode_state(cls: type[Any], text: str) -> Any:
    aggregate = object.__new__(cls)
    aggregate.__dict__.update(_decode(json.loads(text)))
    aggregate.__dict__["_pending_events"] = []
    aggregate.__dict__["requests"] = {}
    return aggregate
