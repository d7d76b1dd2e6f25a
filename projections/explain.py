"""Why a view says what it says: the events behind its values.

An explanation recomputes the view with the functions of its own module (nothing is
re-implemented) and names, for each value, the events that fed it, by event id: the
aggregate's id and version, ``"<aggregate id>:<version>"``, as in the audit trail
(``GET /athletes/{id}/events``).  The events are those recorded by the same moment as the view
(``as_of``), so an explanation of a past answer names what was known then.

- ``strength``: for every exercise, the set behind its best and latest e1RM and behind each
  day of its e1RM series, and for every personal record the set that made it; each set with
  its ``SetLogged`` event and the ``SetAmended`` events that changed it.
- ``readiness``: every criterion with its inputs: the planned weeks and the sessions counted
  for adherence, the last 28 days of load (and their sessions) for ACWR, the load history for
  form, the observations in the recovery window and baseline, the training sessions compared
  for the RPE trend.  Sessions, observations and plans are listed once, beside the criteria,
  each with its events.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from projections.facts import SessionRow
from projections.fatigue import day_row
from projections.history import AthleteHistory
from projections.history_facts import HistoryFacts
from projections.observations import observation_day
from projections.readiness import LIKE_WEEKS, readiness
from projections.recovery import MARKERS, recovery
from projections.science.strength import e1rm
from projections.source import EventSource, domain_event
from projections.strength import strength
from services.domain.errors import NotFound
from services.domain.session import TrainingSession
from services.domain.weeks import week_start

SET_EVENTS = (TrainingSession.SetLogged, TrainingSession.SetAmended)
ACWR_CHRONIC_DAYS = 28
RECOVERY_WINDOW_DAYS, RECOVERY_BASELINE_DAYS = 7, 60  # recovery_status defaults


def event_id(aggregate_id: Any, version: int) -> str:
    return f"{aggregate_id}:{version}"


class EventIndex:
    """The events of an athlete's aggregates as recorded by ``recorded_by`` (None: all),
    read from the store once per aggregate, when first asked for."""

    def __init__(self, source: EventSource, recorded_by: datetime | None) -> None:
        self.source = source
        self.recorded_by = recorded_by
        self._events: dict[str, list[Any]] = {}

    def events(self, aggregate_id: str | UUID) -> list[Any]:
        key = str(aggregate_id)
        if key not in self._events:
            out = []
            for stored in self.source.recorder.select_events(UUID(key)):
                event = domain_event(self.source, stored)
                if event is None:  # the athlete was erased meanwhile
                    raise NotFound("no such athlete")
                if self.recorded_by is not None and event.timestamp > self.recorded_by:
                    break  # as the history folds it (projections.history)
                out.append(event)
            self._events[key] = out
        return self._events[key]

    def ids(self, aggregate_id: str | UUID) -> list[str]:
        return [event_id(e.originator_id, e.originator_version)
                for e in self.events(aggregate_id)]

    def of_set(self, session_id: str, set_id: str) -> list[dict[str, Any]]:
        """The SetLogged event of a set and the SetAmended events that changed it."""
        return [{"event_id": event_id(e.originator_id, e.originator_version),
                 "type": type(e).__name__,
                 "recorded_at": e.timestamp.astimezone(UTC).isoformat(),
                 **({"changes": e.changes} if isinstance(e, TrainingSession.SetAmended)
                    else {})}
                for e in self.events(session_id)
                if isinstance(e, SET_EVENTS) and e.set_id == set_id]


# ------------------------------------------------------------------ strength


def explain_strength(history: AthleteHistory, day: date, index: EventIndex) -> dict[str, Any]:
    facts = HistoryFacts(history)
    view = strength(facts, day)
    sets = facts.sets(day)

    def estimate(s: dict[str, Any]) -> float | None:
        value = e1rm(float(s["load_kg"]), int(s["reps"]), s.get("rpe"), s.get("rir"))
        return round(value, 2) if value is not None else None

    def set_ref(s: dict[str, Any]) -> dict[str, Any]:
        return {"session_id": s["session_id"], "set_id": s["set_id"],
                "day": s["day"].isoformat(), "reps": int(s["reps"]),
                "load_kg": float(s["load_kg"]), "rpe": s.get("rpe"), "rir": s.get("rir"),
                "e1rm_kg": estimate(s), "events": index.of_set(s["session_id"], s["set_id"])}

    by_key = {(s["session_id"], s["set_id"]): s for s in sets}
    exercises = []
    for entry in view["exercises"]:
        ex = entry["exercise_id"]
        best_of_day: dict[date, dict[str, Any]] = {}  # the set behind each day's e1RM
        for s in sets:
            value = estimate(s) if s["exercise_id"] == ex else None
            if value is None:
                continue
            held = best_of_day.get(s["day"])
            if held is None or value > (estimate(held) or 0.0):
                best_of_day[s["day"]] = s
        series = [{"day": d.isoformat(), "e1rm_kg": estimate(s), "set": set_ref(s)}
                  for d, s in sorted(best_of_day.items())]
        best = entry.get("best_e1rm_set")
        exercises.append({
            "exercise_id": ex, "name": entry["name"], "sets": entry["sets"],
            "best_e1rm_kg": entry.get("best_e1rm_kg"),
            "best_e1rm_set": set_ref(by_key[(best["session_id"], best["set_id"])])
            if best else None,
            "latest_e1rm_kg": entry.get("latest_e1rm_kg"),
            "latest_e1rm_set": series[-1]["set"] if series else None,
            "e1rm_series": series,
        })
    records = [{**r, "set": set_ref(by_key[(r["set"]["session_id"], r["set"]["set_id"])])}
               for r in view["records"]]
    return {"method": "e1RM: Epley on reps to failure (reps + RIR, RIR = 10 - RPE), "
                      "working sets with load and reps, warm-ups out",
            "exercises": exercises, "records": records}


# ------------------------------------------------------------------ readiness


def _session_entry(row: SessionRow, index: EventIndex) -> dict[str, Any]:
    classification, reason = row.classification, row.reason
    return {"day": row.day.isoformat(), "planned_role": row.planned_role,
            "objective_id": row.objective_id, "planned_session_id": row.planned_session_id,
            "session_rpe": row.session_rpe, "minutes": row.minutes,
            "volume_load_kg": row.volume_load_kg, "load": row.load,
            "load_source": row.load_source, "classification": classification,
            "reason": reason, "events": index.ids(row.session_id)}


def explain_readiness(history: AthleteHistory, day: date, index: EventIndex,
                      ) -> dict[str, Any]:
    facts = HistoryFacts(history)
    view = readiness(facts, day)
    first_day = history.athlete.profile["first_day_of_week"]
    this_week = week_start(day + timedelta(days=1), first_day)  # as readiness.criteria
    loads = facts.sessions(day)
    by_id = {r.session_id: r for r in loads}
    by_slot = {r.planned_session_id: r for r in loads if r.planned_session_id}
    sessions: dict[str, dict[str, Any]] = {}
    observations: dict[str, dict[str, Any]] = {}
    plans: dict[str, dict[str, Any]] = {}

    def use_session(session_id: str) -> str:
        if session_id not in sessions:
            sessions[session_id] = _session_entry(by_id[session_id], index)
        return session_id

    # 1. adherence: the training slots of the last 3 complete planned weeks
    weeks_in = []
    for plan in history.plans:
        if not (this_week - timedelta(weeks=3) <= plan.week_start < this_week
                and plan.week_start <= day):
            continue
        plans[str(plan.id)] = {"week_start": plan.week_start.isoformat(),
                               "events": index.ids(plan.id)}
        slots = []
        for slot in plan.sessions.values():
            if slot.get("cancelled") or slot["role"] != "training":
                continue
            done = by_slot.get(slot["planned_session_id"])
            slots.append({
                "planned_session_id": slot["planned_session_id"], "title": slot.get("title"),
                "session_id": use_session(done.session_id) if done else None,
                "counted_as_done": bool(done and done.classification == "training"),
                **({"conversion": slot["conversion"]} if slot.get("conversion") else {}),
            })
        weeks_in.append({"week_start": plan.week_start.isoformat(), "plan_id": str(plan.id),
                         "training_slots": slots})

    # 2. ACWR and 3. form: the daily load series
    series = [day_row(d) for d in facts.fatigue_days(day)]
    window = series[-ACWR_CHRONIC_DAYS:]
    window_start = date.fromisoformat(window[0]["day"]) if window else day
    acwr_days = [{"day": row["day"], "load": row["load"],
                  "sessions": [use_session(r.session_id) for r in loads
                               if r.day.isoformat() == row["day"]]} for row in window]
    today = series[-1] if series else {}
    form_sessions = [use_session(r.session_id) for r in loads
                     if series and r.day >= date.fromisoformat(series[0]["day"])]

    # 4. recovery: the observations of the window and the baseline before it
    rec = recovery(facts, day)
    rec_window_start = day - timedelta(days=RECOVERY_WINDOW_DAYS - 1)
    baseline_start = rec_window_start - timedelta(days=RECOVERY_BASELINE_DAYS)
    markers = {}
    for name, (metric, _) in MARKERS.items():
        recent: list[str] = []
        baseline: list[str] = []
        for obs in history.observations:
            if obs.metric != metric:
                continue
            d = observation_day(history.athlete, obs.observed_at)
            if not baseline_start <= d <= day:
                continue
            observations[str(obs.id)] = {"metric": obs.metric, "value": obs.value,
                                         "unit": obs.unit, "day": d.isoformat(),
                                         "observed_at": obs.observed_at.isoformat(),
                                         "events": index.ids(obs.id)}
            (recent if d >= rec_window_start else baseline).append(str(obs.id))
        markers[name] = {"metric": metric, "status": rec["markers"][name]["status"],
                         "window": [rec_window_start.isoformat(), day.isoformat()],
                         "baseline": [baseline_start.isoformat(),
                                      (rec_window_start - timedelta(days=1)).isoformat()],
                         "window_observations": recent, "baseline_observations": baseline}

    # 5. effort at like work: training sessions with an RPE, last complete week vs before
    by_week: dict[date, list[str]] = {}
    for r in loads:
        if r.classification == "training" and r.session_rpe is not None:
            by_week.setdefault(week_start(r.day, first_day), []).append(r.session_id)
    last = this_week - timedelta(weeks=1)
    before = [this_week - timedelta(weeks=k) for k in range(2, LIKE_WEEKS + 2)]

    inputs: dict[str, dict[str, Any]] = {
        "training_adherence_3w": {"weeks": weeks_in},
        "acwr": {"method": history.settings.get("acwr_method", "ewma"), "acute_days": 7,
                 "chronic_days": ACWR_CHRONIC_DAYS, "from": window_start.isoformat(),
                 "to": day.isoformat(), "days": acwr_days,
                 "note": "the last 28 days of load; the EWMA method also weighs earlier days, "
                         "less and less (see the form criterion for the whole series)"},
        "form_pct_of_ctl": {"ctl": today.get("ctl"), "atl": today.get("atl"),
                            "tsb": today.get("tsb"), "days": len(series),
                            "from": series[0]["day"] if series else None,
                            "sessions": form_sessions},
        "recovery": {"markers": markers},
        "session_rpe_trend": {
            "last_week": {"week_start": last.isoformat(),
                          "sessions": [use_session(i) for i in by_week.get(last, [])]},
            "before": [{"week_start": w.isoformat(),
                        "sessions": [use_session(i) for i in by_week.get(w, [])]}
                       for w in before]},
    }
    return {
        "week_start": view["week_start"], "verdict": view["verdict"],
        "criteria": [{**c, "inputs": inputs.get(c["name"], {})} for c in view["criteria"]],
        "sessions": dict(sorted(sessions.items(), key=lambda kv: (kv[1]["day"], kv[0]))),
        "observations": dict(sorted(observations.items(),
                                    key=lambda kv: (kv[1]["observed_at"], kv[0]))),
        "plans": plans,
    }


EXPLAINERS: dict[str, Callable[[AthleteHistory, date, EventIndex], dict[str, Any]]] = {
    "strength": explain_strength,
    "readiness": explain_readiness,
}
