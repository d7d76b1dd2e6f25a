"""Command types of the application: what a session or observation to record holds.

The API maps its request schemas onto these, the intake reads them back from a stored
request (:meth:`SessionCommand.from_json`), and the device importer builds them from a
file; :class:`services.application.TrainingLog` takes them.  Values are checked by the
domain, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


def _moment(value: Any, name: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a date-time")
    return datetime.fromisoformat(value)


@dataclass
class SessionCommand:
    """A session to start, or a whole past one with its ``sets`` and ``end``.

    ``planned_session_id`` names its slot; without one the slot-matching rule
    (:mod:`services.slots`) picks it, unless ``planned_role`` is ``unplanned``.  Device
    imports add their ``timezone`` (else the athlete's) and ``device`` summary."""

    started_at: datetime
    planned_role: str | None = None
    objective_id: str | None = None
    planned_session_id: str | None = None
    title: str | None = None
    sport: str = "strength_training"
    notes: str | None = None
    sets: list[dict[str, Any]] | None = None
    end: dict[str, Any] | None = None
    timezone: str | None = None
    device: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionCommand:
        """A session as an import request stores it (the API's JSON); TypeError if the
        shape is wrong, ValueError if a time is not ISO 8601."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise TypeError(f"unknown session fields: {', '.join(sorted(unknown))}")
        values = dict(data)
        values["started_at"] = _moment(values.get("started_at"), "started_at")
        if values["started_at"] is None:
            raise TypeError("started_at is required")
        values["sets"] = [{**s, "performed_at": _moment(s.get("performed_at"), "performed_at")}
                          for s in values.get("sets") or []] or None
        if values.get("end") is not None:
            values["end"] = {"session_rpe": None, **values["end"],
                             "ended_at": _moment(values["end"].get("ended_at"), "ended_at")}
        return cls(**values)


@dataclass
class ObservationCommand:
    """An observation from a device file; ``identity`` makes its id, so the same reading
    imported again is recognised."""

    metric: str
    value: float
    unit: str
    observed_at: datetime
    identity: str


@dataclass
class ImportCommand:
    """What one import records, all or nothing: sessions, each with the key its id derives
    from (the same key again answers with the existing session), and observations."""

    sessions: list[tuple[str, SessionCommand]] = field(default_factory=list)
    observations: list[ObservationCommand] = field(default_factory=list)


@dataclass
class ImportOutcome:
    """What an import made: each session's id (in the command's order) with ``created``,
    ``existing`` (an earlier import recorded it) or ``updated`` (the complete file of a
    partial session replaced its device data), and the new observations' ids.
    ``recorded``: each session as it now stands (its aggregate), ``athlete`` as it was read,
    so what reports on the import need not load them again."""

    sessions: dict[str, str] = field(default_factory=dict)
    observations: list[str] = field(default_factory=list)
    recorded: dict[str, Any] = field(default_factory=dict, repr=False)
    athlete: Any = field(default=None, repr=False)

    @property
    def created(self) -> list[str]:
        return [k for k, v in self.sessions.items() if v == "created"]

    @property
    def updated(self) -> list[str]:
        return [k for k, v in self.sessions.items() if v == "updated"]
