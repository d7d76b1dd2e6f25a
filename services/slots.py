"""The slot-matching rule: which planned slot of its week a recorded session fills.

One rule for every way a session arrives (``/log``, the API, device imports), in order:

1. the open slot of the same day and the same sport;
2. the open slot of the same day that names no sport;
3. a late session: the earliest open slot of the same role on an earlier day of the week
   (a slot without a day counts as the week's first day).

Never a slot of another week, a cancelled one, one another session already fills, or one
for another sport.  Pure: the caller passes the week's slots and the ones already taken.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Any

Slot = Mapping[str, Any]


def _open(slots: Iterable[Slot], taken: Collection[str]) -> list[Slot]:
    return [s for s in slots
            if not s.get("cancelled") and s["planned_session_id"] not in taken]


def _day(slot: Slot) -> str:
    return str(slot.get("day") or "")  # no day: before every dated one


def match_slot(slots: Iterable[Slot], day: date, sport: str, role: str | None = None,
               taken: Collection[str] = ()) -> Slot | None:
    """The slot a session of ``sport`` on local ``day`` fills, or ``None``.

    ``slots`` are the slots of the week of ``day`` (the caller's plan); ``taken``, the ids
    of slots other sessions fill; ``role`` (``training`` / ``volume``) narrows every step
    to slots of that role, ``None`` accepts either.  Ties go to the slot listed first."""
    candidates = [s for s in _open(slots, taken)
                  if (role is None or s["role"] == role)
                  and s.get("sport") in (None, sport)]
    today = day.isoformat()
    same_day = [s for s in candidates if s.get("day") == today]
    for wanted in (sport, None):
        for slot in same_day:
            if slot.get("sport") == wanted:
                return slot
    earlier = [s for s in candidates if _day(s) < today]
    return min(earlier, key=_day) if earlier else None
