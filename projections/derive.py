"""The step functions behind every stored series: each can start from the beginning (the
oracle, :mod:`projections.history_facts`) or resume from a stored state (the read model,
:mod:`projections.read_model`), and gives the same rows either way.

- :func:`sequence_sessions`: how each session was executed and which block it belongs to,
  from the sessions before it;
- :func:`fatigue_days`: the daily load series (Performance Manager, ACWR, monotony, strain);
- :func:`strength_marks`: the strength bests each working set changed (records);
- :func:`week_row`: planned vs done for one week.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from projections.facts import FatigueDay, Mark, SessionRow
from projections.science.fatigue import (
    PmcDay,
    acwr_rolling,
    ewma_step,
    monotony,
    pmc_goldencheetah_step,
    pmc_trainingpeaks_step,
    strain,
)
from projections.science.strength import e1rm
from services.domain.exercises import is_unidentified
from services.domain.plan import WeeklyPlan
from services.domain.prescription import as_prescribed, session_step_report
from services.domain.session import TrainingSession
from services.domain.weeks import local_day

FAR_OFF_PLAN = 0.5  # under half the usual volume load for the objective: a workout
USUAL_SESSIONS = 8  # "usual": the lower quartile of the objective's last 8 sessions
BLOCK_GAP_DAYS = 28  # a gap this long without a session starts a new training block
ACWR_ACUTE, ACWR_CHRONIC = 7, 28
WINDOW = ACWR_CHRONIC - 1  # earlier days' loads a day of the series needs


# ------------------------------------------------------------------ sessions


def sequence_sessions(rows: Sequence[SessionRow], usual: dict[str, list[float]],
                      before: SessionRow | None) -> None:
    """Classify ``rows`` (in start order) and give each its block, in place.

    ``usual``: per objective, the volume loads of its latest earlier sessions (at most
    ``USUAL_SESSIONS``, oldest first), updated as the rows go; ``before``: the session just
    before the first row, if any.

    Classification: ``training`` when tied to an objective and done as planned;
    ``workout`` without an objective, with no work recorded, or far off plan: under half the
    usual volume load of the objective, the lower quartile (nearest rank) of its last 8
    sessions with volume, so that an objective trained both heavy and light (a main and a
    converted session) judges the light one against its own kind.  A session shortened for
    life's demands above that line keeps its purpose and counts as training.
    """
    for row in rows:
        row.classification, row.reason = _classify(row, usual)
        if before is None or (row.day - before.day).days >= BLOCK_GAP_DAYS:
            row.block_start = row.day
        else:
            row.block_start = before.block_start
        before = row


def _classify(row: SessionRow, usual: dict[str, list[float]]) -> tuple[str, str]:
    if row.objective_id is None:
        return "workout", ("volume session: accumulates work, no objective"
                           if row.planned_role == "volume" else "no objective")
    if row.sets == 0 and not row.minutes:
        return "workout", "no work recorded"
    recent = usual.setdefault(row.objective_id, [])
    verdict = ("training", "objective linked, done as planned")
    typical = sorted(recent)[len(recent) // 4] if recent else None
    if typical is not None and row.volume_load_kg < FAR_OFF_PLAN * typical:
        verdict = ("workout", f"far off plan: volume load {row.volume_load_kg:g} kg is under "
                   f"half the usual {typical:g} kg for this objective")
    if row.volume_load_kg > 0:
        recent.append(row.volume_load_kg)
        del recent[:-USUAL_SESSIONS]
    return verdict


# ------------------------------------------------------------------ the load series


def fatigue_days(first: date, loads: Sequence[float], start: int, before: FatigueDay | None,
                 earlier: Sequence[float], settings: dict[str, Any]) -> list[FatigueDay]:
    """Days ``start``, ``start + 1``… of the series that begins on ``first``, from their
    ``loads``; ``before`` is day ``start - 1`` (None for day 0) and ``earlier`` the loads of
    the days before ``start`` (the last ``WINDOW`` are enough).

    The settings choose the model (``fatigue_model``, ``ctl_days``, ``atl_days``) and the
    ACWR (``acwr_method``); sources in :mod:`projections.science.fatigue`."""
    ctl_days, atl_days = int(settings["ctl_days"]), int(settings["atl_days"])
    golden = settings.get("fatigue_model") == "goldencheetah"
    method = settings.get("acwr_method", "ewma")
    window = list(earlier[-WINDOW:])
    pmc = PmcDay(before.ctl, before.atl, before.tsb) if before else PmcDay(0.0, 0.0, 0.0)
    acute = before.ewma_acute if before else 0.0
    chronic = before.ewma_chronic if before else 0.0
    out = []
    for i, load in enumerate(loads):
        index = start + i
        pmc = (pmc_goldencheetah_step(pmc, load, ctl_days, atl_days) if golden
               else pmc_trainingpeaks_step(pmc, load, ctl_days, atl_days))
        acute = ewma_step(acute, load, ACWR_ACUTE)
        chronic = ewma_step(chronic, load, ACWR_CHRONIC)
        window.append(load)
        if method == "ewma":
            ratio = acute / chronic if index + 1 >= ACWR_CHRONIC and chronic != 0 else None
        elif index + 1 >= ACWR_CHRONIC:
            ratio = acwr_rolling(window[-ACWR_CHRONIC:], ACWR_ACUTE, ACWR_CHRONIC,
                                 coupled=method == "rolling_coupled")[-1]
        else:
            ratio = None
        week = window[-7:] if index >= 6 else []
        mono = monotony(week) if week else None
        out.append(FatigueDay(first + timedelta(days=index), index, load, pmc.ctl, pmc.atl,
                              pmc.tsb, acute, chronic, ratio, mono,
                              strain(week) if mono is not None else None))
        del window[:-WINDOW]
    return out


def daily_loads(rows: Iterable[SessionRow], first: date, last: date) -> list[float]:
    """The load of every day from ``first`` to ``last`` (days without training: 0)."""
    series = [0.0] * ((last - first).days + 1)
    for row in rows:
        if first <= row.day <= last:
            series[(row.day - first).days] += row.load
    return series


# ------------------------------------------------------------------ strength


def utc_key(moment: datetime) -> str:
    """A moment as a sortable string: UTC, fixed width (``YYYY-MM-DDTHH:MM:SS.ffffff``).
    Every set has one: ``%`` formatting is the cheapest way (``strftime`` or ``isoformat``
    without the offset cost twice as much)."""
    m = moment.astimezone(UTC)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06d" % (  # noqa: UP031 - see above
        m.year, m.month, m.day, m.hour, m.minute, m.second, m.microsecond)


def set_order(performed: str, started: str, session_id: str, position: int, set_id: str) -> str:
    """A set's place in time, as a sortable string: when it was performed, then when its
    session started (both UTC, :func:`utc_key`), then its session and its place in the order it
    was logged (sets given no time of their own share the session's start), so one input
    always gives one order."""
    return f"{performed}|{started}|{session_id}|{position:05d}|{set_id}"


def working_sets(session: TrainingSession, only: set[str] | None = None,
                 ) -> list[dict[str, Any]]:
    """A session's loaded working sets with reps (``only`` those ids, if given), each with
    its order (:func:`set_order`), local day (in the session's zone) and e1RM (Epley on reps
    to failure; None more than 4 reps short)."""
    out = []
    session_id, started = str(session.id), session.started_at
    started_utc, started_day = utc_key(started), local_day(started, session.timezone)
    for position, s in enumerate(session.sets.values()):
        if only is not None and s["set_id"] not in only:
            continue
        if s.get("set_type") == "warmup" or not s.get("reps") or not s.get("load_kg") \
                or is_unidentified(s["exercise_id"]):
            continue
        performed = s.get("performed_at")
        estimate = e1rm(float(s["load_kg"]), int(s["reps"]), s.get("rpe"), s.get("rir"))
        out.append({
            "exercise_id": s["exercise_id"], "session_id": session_id,
            "set_id": s["set_id"], "reps": int(s["reps"]), "load_kg": float(s["load_kg"]),
            "rpe": s.get("rpe"), "rir": s.get("rir"),
            "order": set_order(utc_key(performed) if performed else started_utc, started_utc,
                            session_id, position, s["set_id"]),
            "day": local_day(performed, session.timezone) if performed else started_day,
            "e1rm": round(estimate, 2) if estimate is not None else None,
        })
    return out


def set_ref(s: dict[str, Any]) -> dict[str, Any]:
    """How a record names the set that made it."""
    return {"session_id": s["session_id"], "set_id": s["set_id"], "day": s["day"].isoformat(),
            "reps": int(s["reps"]), "load_kg": float(s["load_kg"]), "rpe": s.get("rpe"),
            "rir": s.get("rir")}


def strength_marks(sets: Iterable[dict[str, Any]], bests: dict[str, float]) -> list[Mark]:
    """The marks of working sets of one exercise, in order, from the ``bests`` before them
    (``"kind@at"`` -> value, updated in place).  Candidates per set: heaviest load, most
    reps at that load, set volume (reps × load), e1RM (Epley; Brzycki beside it, both on
    reps to failure: :mod:`projections.science.strength`)."""
    out = []
    for s in sets:
        reps, load, estimate = int(s["reps"]), float(s["load_kg"]), s["e1rm"]
        candidates = [("heaviest_kg", 0.0, load, "heaviest_kg@0"),
                      ("most_reps_at", load, float(reps), f"most_reps_at@{load:g}"),
                      ("set_volume_kg", 0.0, reps * load, "set_volume_kg@0")]
        if estimate is not None:
            candidates.append(("e1rm_kg", 0.0, estimate, "e1rm_kg@0"))
        for seq, (kind, at, value, key) in enumerate(candidates):  # key: f"{kind}@{at:g}"
            previous = bests.get(key)
            if previous is not None and value <= previous:
                continue
            bests[key] = value
            brz = None
            if kind == "e1rm_kg":
                found = e1rm(load, reps, s.get("rpe"), s.get("rir"), formula="brzycki")
                brz = round(found, 2) if found is not None else None
            out.append(Mark(s["exercise_id"], s["order"], seq, kind, at, value, previous,
                            set_ref(s), brz))
    return out


# ------------------------------------------------------------------ weeks


#: a session by id, as recorded (None: not known)
Performed = Callable[[str], TrainingSession | None]


def week_row(plan: WeeklyPlan, sessions: Sequence[SessionRow], day: date | None,
             performed: Performed) -> dict[str, Any]:
    """Planned vs done for a plan's week, as of ``day`` (None: the whole week).

    A slot is done by a session of that week linked to it (a session of another week does
    not make up for it); training slots count as done when that session was training.
    Cancelled slots are out; in the week of ``day``, slots on later days are not due yet, and
    a slot of ``day`` itself is not missed while its day lasts.  ``prescribed``: each slot
    with a prescription and a session that did it, the session's steps done, partial and
    missed, and its status (``services.domain.prescription.as_prescribed``, from the step
    report the session API gives; ``performed`` gives the session).
    """
    end = plan.week_start + timedelta(days=6)
    if day is not None and day < end:
        end = day
    by_slot = {r.planned_session_id: r for r in sessions
               if r.planned_session_id and plan.week_start <= r.day <= end}
    slots = [s for s in plan.sessions.values() if not s.get("cancelled")]
    due = [s for s in slots if s.get("day") is None or s["day"] <= end.isoformat()]
    done = [s for s in due if s["planned_session_id"] in by_slot]
    training = [s for s in due if s["role"] == "training"]
    training_done = [s for s in training if s["planned_session_id"] in by_slot
                     and by_slot[s["planned_session_id"]].classification == "training"]
    return {
        "week_start": plan.week_start.isoformat(),
        "planned": len(due), "completed": len(done),
        "training_planned": len(training), "training_done": len(training_done),
        "volume_planned": sum(1 for s in due if s["role"] == "volume"),
        "converted": sum(1 for s in slots if s.get("converted")),
        "missed": [s.get("title") or s["role"] for s in due if s not in done
                   and not (day is not None and s.get("day") == day.isoformat())],
        "prescribed": [r for r in (_prescribed(s, by_slot[s["planned_session_id"]], performed)
                                   for s in slots if s.get("prescription")
                                   and s["planned_session_id"] in by_slot) if r],
    }


def _prescribed(slot: dict[str, Any], row: SessionRow, performed: Performed,
                ) -> dict[str, Any] | None:
    session = performed(row.session_id)
    if session is None:
        return None
    return {"planned_session_id": slot["planned_session_id"], "session_id": row.session_id,
            "title": slot.get("title") or slot["role"],
            **as_prescribed(session_step_report(slot["prescription"], session))}
