"""Aggregate states as JSON, so the read model can apply each event to the state it changes.

The read model keeps the current state of each of an athlete's aggregates (the athlete,
sessions, plans, goals, observations) and applies every event with the domain's own
``mutate``: the read side folds nothing from the store, and an event costs the size of the
aggregate it changes.  Types JSON lacks are tagged: datetimes, dates, UUIDs and sets.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

_SKIP = ("_pending_events", "requests")  # write-side bookkeeping the views never read


def _tagged(value: Any) -> Any:
    """JSON for the types JSON lacks (``json.dumps`` calls it for those only)."""
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, UUID):
        return {"$u": str(value)}
    if isinstance(value, set | frozenset):
        return {"$s": sorted(value, key=str)}
    raise TypeError(f"cannot store {type(value).__name__} in an aggregate state")


_UNTAG: dict[str, Callable[[Any], Any]] = {
    "$dt": datetime.fromisoformat, "$d": date.fromisoformat, "$u": UUID, "$s": set}


def _untagged(obj: dict[str, Any]) -> Any:
    """Back from :func:`_tagged` (``json.loads`` calls it for every object)."""
    if len(obj) == 1:
        ((tag, inner),) = obj.items()
        make = _UNTAG.get(tag)
        if make is not None:
            return make(inner)
    return obj


def encode_state(aggregate: Any) -> str:
    state = {k: v for k, v in vars(aggregate).items() if k not in _SKIP}
    return json.dumps(state, separators=(",", ":"), default=_tagged)  # dict order is kept


def decode_state(cls: type[Any], text: str) -> Any:
    aggregate = object.__new__(cls)
    aggregate.__dict__.update(json.loads(text, object_hook=_untagged))
    aggregate.__dict__["_pending_events"] = []
    aggregate.__dict__["requests"] = {}
    return aggregate
