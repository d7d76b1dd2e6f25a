"""Aggregates to response models."""

from __future__ import annotations

from projections.sessions import session_tss
from services.api import schemas as s
from services.domain.athlete import Athlete
from services.domain.coach import Coach
from services.domain.exercises import is_unidentified
from services.domain.goal import Goal
from services.domain.observation import Observation
from services.domain.plan import WeeklyPlan
from services.domain.session import TrainingSession


def athlete_out(a: Athlete) -> s.AthleteOut:
    return s.AthleteOut(
        athlete_id=str(a.id),
        profile=a.profile,
        settings=a.settings,
        coach_ids=sorted(a.coach_ids),
        planner_ids=sorted(a.planners()),
        custom_exercises=a.custom_exercises,
        created_at=a.created_on,
        version=a.version,
    )


def coach_out(c: Coach) -> s.CoachOut:
    return s.CoachOut(coach_id=str(c.id), name=c.name)


def goal_out(g: Goal) -> s.GoalOut:
    return s.GoalOut(
        goal_id=str(g.id),
        athlete_id=g.athlete_id,
        title=g.title,
        metric=g.metric,
        direction=g.direction,
        target_value=g.target_value,
        unit=g.unit,
        deadline=g.deadline,
        start_value=g.start_value,
        notes=g.notes,
        status=g.status,
        version=g.version,
    )


def plan_out(p: WeeklyPlan) -> s.PlanOut:
    return s.PlanOut(
        plan_id=str(p.id),
        athlete_id=p.athlete_id,
        week_start=p.week_start,
        sessions=list(p.sessions.values()),
        comments=p.comment_list(),
        version=p.version,
    )


def set_out(data: dict[str, object]) -> s.SetOut:
    return s.SetOut.model_validate(
        {**data, "unidentified": is_unidentified(str(data["exercise_id"]))})


def laps_out(t: TrainingSession) -> list[s.LapOut]:
    """The laps of an imported session (none for one logged by hand, or imported before
    laps were kept)."""
    out = []
    for lap in (t.device or {}).get("lap_rows") or []:
        speed = lap.get("avg_speed_m_s")
        out.append(s.LapOut(**lap, pace_s_per_km=round(1000 / speed, 1) if speed else None))
    return out


def with_tss(out: s.SessionOut, athlete: Athlete | None,
             t: TrainingSession) -> s.SessionOut:
    """``out`` with the session's power TSS (``projections.sessions.session_tss``)."""
    if athlete is not None:
        out.power_tss, out.power_tss_from = session_tss(athlete, t)  # type: ignore[assignment]
    return out


def session_out(t: TrainingSession) -> s.SessionOut:
    return s.SessionOut(
        session_id=str(t.id),
        athlete_id=t.athlete_id,
        status=t.status,  # type: ignore[arg-type]
        planned_role=t.planned_role,
        objective_id=t.objective_id,
        planned_session_id=t.planned_session_id,
        started_at=t.started_at,
        ended_at=t.ended_at,
        timezone=t.timezone,
        title=t.title,
        sport=t.sport,
        session_rpe=t.session_rpe,
        duration_min=t.duration_min,
        avg_hr=t.avg_hr,
        max_hr=t.max_hr,
        partial=bool((t.device or {}).get("partial")),
        hr_histogram=(t.device or {}).get("hr_histogram") or None,
        notes=t.notes,
        sets=[set_out(x) for x in t.sets.values()],
        comments=t.comment_list(),
        prescribed_steps=None,
        power_tss=None,  # with_tss: it needs the athlete's profile
        power_tss_from=None,
        version=t.version,
    )


def observation_out(o: Observation) -> s.ObservationOut:
    return s.ObservationOut(version=o.version, **o.as_dict())
