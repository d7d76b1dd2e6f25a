"""A realistic 12-week training block for one athlete, seeded through the application commands.

The block ends with the current week (planned, its sessions up to yesterday); run again on a
later day, the block runs on to that day's week, so the demo always shows its story now.

Three training sessions a week (squat, bench press, deadlift, each tied to its objective) and
one volume session of accessory work; from week 7 the volume session is converted into a
second bench-press training session.  Week 2 is hard (it shows in resting HR and HRV) and one
of its sessions is skipped, week 3 is a deload, and one session in week 9 is cut short for
life's demands (it keeps its purpose).  Conversion readiness tells that story: not yet while
history builds and adherence and RPE settle, ready at the end of week 6, then the conversion
and how the athlete copes.  Daily resting HR, HRV and sleep, weekly body mass and deep-work
hours.  Every event is recorded as if entered on the day.

Seeding is idempotent: every command carries a deterministic idempotency key and the
timeline is anchored on the demo athlete's registration, so a second run adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5
from zoneinfo import ZoneInfo

from services.application import TrainingLog, in_zone
from services.domain.athlete import Athlete
from services.domain.base import Context, Source
from services.domain.errors import NotFound
from services.domain.weeks import week_start

WEEKS = 12
TZ = "Europe/London"
DEMO_PROFILE: dict[str, Any] = {
    "name": "Demo Athlete",
    "sex": "male",
    "birth_year": 1990,
    "body_mass_kg": 80.0,
    "max_hr": 188,
    "resting_hr": 54,
    "timezone": TZ,
}
SQUAT, BENCH, DEADLIFT = (
    "squat.back_squats",
    "bench_press.barbell_bench_press",
    "deadlift.barbell_deadlift",
)
ACCESSORIES = (
    ("lunge.dumbbell_bulgarian_split_squat", 10, 20.0),
    ("row.bent_over_row_with_barbell", 10, 60.0),
    ("pull_up.chin_up", 8, 0.0),
    ("shoulder_press.overhead_dumbbell_press", 10, 20.0),
    ("hip_raise.barbell_hip_thrust_on_floor", 12, 80.0),
)


@dataclass
class DemoResult:
    athlete_id: str
    sessions: int
    created: bool


class Seeder:
    def __init__(self, app: TrainingLog, progress: Callable[[str], None]) -> None:
        self.app = app
        self.progress = progress
        self.rng = random.Random(2026)  # noqa: S311 - demo data, not security
        self.last_day: date | None = None  # of the latest session seeded

    def ctx(self, key: str, at: datetime) -> Context:
        request_id = str(uuid5(NAMESPACE_URL, f"trainledger:demo:{key}"))
        return Context(Source("system", principal_id="demo"), request_id, key, recorded_at=at)

    def at(self, day: date, hour: float) -> datetime:
        moment = datetime.combine(day, time(int(hour), int(hour % 1 * 60)))
        return in_zone(moment, TZ, "at").astimezone(UTC)

    def athlete(self, first_monday: date) -> Athlete:
        return self.app.register_athlete(self.athlete_ctx(first_monday), DEMO_PROFILE)

    def athlete_ctx(self, first_monday: date) -> Context:
        return self.ctx("athlete", self.at(first_monday - timedelta(days=1), 12))

    def seed(self, today: date) -> DemoResult:
        request_id = self.athlete_ctx(today).request_id
        assert request_id is not None
        try:
            existing = self.app.athlete(self.app.id_for("athlete", request_id))
            first_monday = existing.created_on.astimezone(ZoneInfo(TZ)).date() + timedelta(days=1)
            created = False
        except NotFound:
            first_monday = week_start(today) - timedelta(weeks=WEEKS - 1)
            created = True
        athlete = self.athlete(first_monday)
        aid = str(athlete.id)
        goals = self.goals(aid, first_monday)
        sessions = 0
        weeks = (week_start(today) - first_monday).days // 7 + 1  # up to this week
        self.last_day = None
        for week in range(weeks):
            monday = first_monday + timedelta(weeks=week)
            sessions += self.week(aid, week, monday, goals, today)
            self.progress(f"week {week + 1:2d}/{weeks} seeded")
        sessions += self.easy_day(aid, today)
        return DemoResult(aid, sessions, created)

    def easy_day(self, aid: str, today: date) -> int:
        """An easy walk yesterday when the planned sessions stopped earlier (a Monday, the
        day after a rest day), so that the last session is always today's or yesterday's."""
        yesterday = today - timedelta(days=1)
        if self.last_day is not None and self.last_day >= yesterday:
            return 0
        self.session(aid, f"walk:{yesterday}", yesterday, None, "Easy walk", [], 40, 3.0,
                     sport="walking")
        return 1

    def goals(self, aid: str, first_monday: date) -> dict[str, str]:
        at = self.at(first_monday - timedelta(days=1), 13)
        deadline = first_monday + timedelta(weeks=16)
        specs: dict[str, dict[str, Any]] = {
            "squat": {
                "title": "Back squat e1RM 150 kg",
                "metric": {"kind": "e1rm", "exercise_id": SQUAT},
                "target_value": 150.0,
                "unit": "kg",
                "start_value": 128.0,
            },
            "bench": {
                "title": "Bench press e1RM 105 kg",
                "metric": {"kind": "e1rm", "exercise_id": BENCH},
                "target_value": 105.0,
                "unit": "kg",
                "start_value": 92.0,
            },
            "deadlift": {
                "title": "Deadlift e1RM 190 kg",
                "metric": {"kind": "e1rm", "exercise_id": DEADLIFT},
                "target_value": 190.0,
                "unit": "kg",
                "start_value": 170.0,
            },
            "deep_work": {
                "title": "28 h of deep work a week",
                "metric": {"kind": "custom", "name": "deep_work_hours", "per": "week"},
                "target_value": 28.0,
                "unit": "h",
                "start_value": 12.0,
            },
        }
        return {
            name: str(
                self.app.set_goal(
                    self.ctx(f"goal:{name}", at),
                    aid,
                    direction="increase",
                    deadline=deadline,
                    notes=None,
                    **spec,
                ).id
            )
            for name, spec in specs.items()
        }

    def week(self, aid: str, week: int, monday: date, goals: dict[str, str], today: date) -> int:
        plan_at = self.at(monday - timedelta(days=1), 19)
        plan = self.app.plan_week(
            self.ctx(f"plan:{week}", plan_at),
            aid,
            monday,
            objective_ids=[goals["squat"], goals["bench"], goals["deadlift"]],
        )
        slots = list(plan.sessions)
        converted = week >= 6
        if converted:
            self.app.convert_volume_session(
                self.ctx(f"convert:{week}", plan_at), aid, monday, slots[3], goals["bench"]
            )
        deload = week == 2
        progress = 1.0 + 0.012 * week - (0.12 if deload else 0.0)
        days = [
            (0, slots[0], SQUAT, 110.0, 5, "Squat"),
            (2, slots[1], BENCH, 80.0, 5, "Bench press"),
            (4, slots[2], DEADLIFT, 150.0, 3, "Deadlift"),
        ]
        count = 0
        for offset, slot, lift, base, reps, title in days:
            day = monday + timedelta(days=offset)
            if day >= today or (week == 1 and offset == 4):  # week 2: Friday skipped (travel)
                continue
            short = week == 8 and offset == 2  # cut short, kept its purpose
            sets = self.main_lift(lift, base * progress, reps, 2 if short else 4, deload)
            self.session(
                aid,
                f"w{week}d{offset}",
                day,
                slot,
                title,
                sets,
                45 if short else 70,
                6.0 if deload else 7.5,
            )
            count += 1
        saturday = monday + timedelta(days=5)
        if saturday < today:
            if converted:
                title = "Bench press, volume (converted to training)"
                sets = self.main_lift(BENCH, 72.0 * progress, 8, 3, deload)
                sets += self.accessories(progress, 2)
            else:
                title = "Volume: accessories"
                sets = self.accessories(progress, 3)
            self.session(aid, f"w{week}d5", saturday, slots[3], title, sets, 60, 6.0)
            count += 1
        self.observations(aid, week, monday, today, goals)
        return count

    def main_lift(
        self, lift: str, top: float, reps: int, work_sets: int, deload: bool
    ) -> list[dict[str, Any]]:
        sets: list[dict[str, Any]] = [
            {
                "exercise_id": lift,
                "reps": 5,
                "load": round(top * 0.5 / 2.5) * 2.5,
                "set_type": "warmup",
            },
            {
                "exercise_id": lift,
                "reps": 3,
                "load": round(top * 0.75 / 2.5) * 2.5,
                "set_type": "warmup",
            },
        ]
        for i in range(work_sets):
            rpe = (6.5 if deload else 7.5) + 0.5 * min(i, 2) + self.rng.choice((0.0, 0.0, 0.5))
            sets.append(
                {
                    "exercise_id": lift,
                    "reps": reps,
                    "load": round(top / 2.5) * 2.5,
                    "rpe": min(rpe, 10.0),
                    "set_type": "working",
                    "rest_s": 180,
                }
            )
        return sets

    def accessories(self, progress: float, rounds: int) -> list[dict[str, Any]]:
        sets = []
        for exercise, reps, load in ACCESSORIES:
            for _ in range(rounds):
                sets.append(
                    {
                        "exercise_id": exercise,
                        "reps": reps,
                        "load": round(load * progress / 2.5) * 2.5,
                        "rir": 3.0,
                        "set_type": "working",
                        "rest_s": 90,
                    }
                )
        return sets

    def session(
        self,
        aid: str,
        key: str,
        day: date,
        slot: str | None,
        title: str,
        sets: list[dict[str, Any]],
        minutes: int,
        rpe: float,
        sport: str = "strength_training",
    ) -> None:
        self.last_day = max(day, self.last_day or day)
        start = self.at(day, 18)
        for i, s in enumerate(sets):
            s["performed_at"] = start + timedelta(minutes=5 + i * (minutes - 10) / len(sets))
        end = start + timedelta(minutes=minutes)
        self.app.start_session(
            self.ctx(f"session:{key}", end),
            aid,
            start,
            planned_session_id=slot,
            title=title,
            sport=sport,
            sets=sets,
            end={
                "ended_at": end,
                "session_rpe": rpe,
                "avg_hr": float(self.rng.randint(118, 135)),
                "max_hr": float(self.rng.randint(160, 176)),
            },
        )

    def observations(
        self, aid: str, week: int, monday: date, today: date, goals: dict[str, str]
    ) -> None:
        for offset in range(7):
            day = monday + timedelta(days=offset)
            if day >= today:
                return
            morning = self.at(day, 7)
            fatigue = 1.5 if week == 1 else 0.0  # a hard week shows in resting HR and HRV
            for metric, value, unit in (
                ("resting_hr", round(54 - 0.2 * week + fatigue + self.rng.gauss(0, 1.2)), "bpm"),
                ("hrv_rmssd", round(62 + 0.6 * week - 3 * fatigue + self.rng.gauss(0, 5), 1), "ms"),
                ("sleep_hours", round(7.2 + self.rng.gauss(0, 0.5), 1), "h"),
                (
                    "deep_work_hours",
                    round(max(0.0, 2.0 + 0.1 * week + self.rng.gauss(0, 0.8)), 1),
                    "h",
                ),
            ):
                key = f"obs:{metric}:{day.isoformat()}"
                self.app.record_observation(
                    self.ctx(key, morning), aid, metric, value, unit, morning
                )
            if offset == 0:
                mass = round(80.0 - 0.1 * week + self.rng.gauss(0, 0.3), 1)
                self.app.record_observation(
                    self.ctx(f"obs:mass:{day}", morning), aid, "body_mass", mass, "kg", morning
                )


def seed_demo(
    app: TrainingLog, today: date | None = None, progress: Callable[[str], None] = lambda _: None
) -> DemoResult:
    return Seeder(app, progress).seed(today or datetime.now(ZoneInfo(TZ)).date())
