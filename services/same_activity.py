"""Whether a device file's activity is already recorded, and whether the file improves on it.

The same activity is the same athlete's, from the same device (manufacturer and product;
serials compared when both files give one, since a salvaged file may lack it), starting
within 60 s.  New device sessions take their id from a one-minute slot of their start, so
the sessions to compare with are those of the slot and its two neighbours.  A complete
file supersedes a partial (salvaged) one of the same activity.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.domain.session import TrainingSession

MATCH_WINDOW_S = 60


def _device(summary: dict[str, Any] | None) -> dict[str, Any]:
    return dict((summary or {}).get("device") or {})


def device_key(summary: dict[str, Any] | None) -> str:
    device = _device(summary)
    return f"{device.get('manufacturer')}:{device.get('product')}"


def activity_keys(athlete_id: str, started_at: datetime, summary: dict[str, Any]) -> list[str]:
    """Keys of the sessions that may hold this activity: its own minute's first (a new
    session takes that one), then the minutes before and after."""
    minute = int(started_at.timestamp() // 60)
    return [f"fit-activity:{athlete_id}:{device_key(summary)}:{m}"
            for m in (minute, minute - 1, minute + 1)]


def same_activity(session: TrainingSession, started_at: datetime,
                  summary: dict[str, Any]) -> bool:
    """Whether ``session`` records the activity a file starting at ``started_at`` holds."""
    if session.device is None or device_key(session.device) != device_key(summary):
        return False
    ours, theirs = _device(session.device).get("serial_number"), _device(summary).get(
        "serial_number")
    if ours is not None and theirs is not None and ours != theirs:
        return False
    return abs((session.started_at - started_at).total_seconds()) <= MATCH_WINDOW_S


def supersedes(new: dict[str, Any] | None, old: dict[str, Any] | None) -> bool:
    """Whether a file with summary ``new`` replaces the device data of one with ``old``:
    the old file was salvaged (partial) and the new one is complete."""
    return bool((old or {}).get("partial")) and not (new or {}).get("partial")
