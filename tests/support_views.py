"""Helpers for tests that build an athlete's history through the HTTP API and read the
analytic views back, as a client would."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from conftest import bearer, new_athlete
from fastapi.testclient import TestClient

from services.domain.weeks import week_start

SQUAT = "squat.back_squats"


class Athlete:
    """An athlete created through the API, with their token's headers."""

    def __init__(self, client: TestClient, zone: str = "UTC", **profile: Any) -> None:
        self.client = client
        self.zone = zone
        self.id, token = new_athlete(client, timezone=zone, **profile)
        self.me = bearer(token)

    # ------------------------------------------------------------ time

    def today(self) -> date:
        """Today in the athlete's time zone."""
        return datetime.now(UTC).astimezone(ZoneInfo(self.zone)).date()

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A moment of a local day, in the athlete's zone."""
        return datetime.combine(day, time(hour, minute), ZoneInfo(self.zone))

    def week(self, offset: int = 0) -> date:
        """The first day of this week (``offset`` weeks later; negative: earlier)."""
        return week_start(self.today(), "monday") + timedelta(weeks=offset)

    # ------------------------------------------------------------ writes

    def post(self, path: str, body: dict[str, Any], key: str | None = None,
             method: str = "POST") -> dict[str, Any]:
        headers = {**self.me, **({"Idempotency-Key": key} if key else {})}
        r = self.client.request(method, path, json=body, headers=headers)
        assert r.status_code in (200, 201), r.text
        answer: dict[str, Any] = r.json()
        return answer

    def session(self, started_at: datetime | str, sets: Iterable[dict[str, Any]] = (), *,
                rpe: float | None = 7, minutes: float = 60, key: str | None = None,
                **fields: Any) -> dict[str, Any]:
        """Record a whole past session: its sets, then its end ``minutes`` later."""
        start = (started_at if isinstance(started_at, str) else started_at.isoformat())
        end = (datetime.fromisoformat(start) + timedelta(minutes=minutes)).isoformat()
        return self.post(f"/athletes/{self.id}/sessions", {
            "started_at": start, "sets": list(sets) or None,
            "end": {"ended_at": end, "session_rpe": rpe}, **fields}, key)

    def goal(self, target: float, exercise_id: str = SQUAT, **fields: Any) -> str:
        """An e1RM goal for the exercise; returns its id."""
        return str(self.post(f"/athletes/{self.id}/goals", {
            "title": f"{exercise_id} {target:g} kg", "unit": "kg", "target_value": target,
            "metric": {"kind": "e1rm", "exercise_id": exercise_id}, **fields})["goal_id"])

    def plan(self, monday: date, objective_id: str | None = None) -> dict[str, Any]:
        """The default week: 3 training sessions (tied to the objective) and 1 volume."""
        return self.post(f"/athletes/{self.id}/plans", {
            "week_start": monday.isoformat(),
            "objective_ids": [objective_id] * 3 if objective_id else None})

    # ------------------------------------------------------------ reads

    def view(self, name: str, **params: str) -> dict[str, Any]:
        r = self.client.get(f"/athletes/{self.id}/views/{name}", params=params,
                            headers=self.me)
        assert r.status_code == 200, r.text
        answer: dict[str, Any] = r.json()
        return answer

    def criterion(self, name: str) -> dict[str, Any]:
        """One criterion of the readiness view."""
        found = [c for c in self.view("readiness")["criteria"] if c["name"] == name]
        assert len(found) == 1, found
        return found[0]


def squat(load: float, reps: int = 5, rpe: float | None = 8,
          performed_at: datetime | None = None) -> dict[str, Any]:
    """A working set of back squats."""
    out: dict[str, Any] = {"exercise_id": SQUAT, "reps": reps, "load": load, "load_unit": "kg"}
    if rpe is not None:
        out["rpe"] = rpe
    if performed_at is not None:
        out["performed_at"] = performed_at.isoformat()
    return out


def without_ids(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records as they read without the random ids of the sessions and sets behind them."""
    return [{**r, "set": {k: v for k, v in r["set"].items()
                          if k not in ("session_id", "set_id")}} for r in records]
