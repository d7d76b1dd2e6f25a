"""The athlete: profile and calculation settings, both versioned by events, and coach grants."""

from __future__ import annotations

import bisect
import itertools
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from services.domain.base import Context, TrainingAggregate
from services.domain.errors import InvalidValue, StateConflict
from services.domain.exercises import get_exercise
from services.domain.prescription import check_prescription
from services.domain.validation import (
    check_choice,
    check_range,
    check_text,
    check_timezone,
)

SEXES = ("female", "male", "unspecified")
MASS_UNITS = ("kg", "lb")
DISTANCE_UNITS = ("km", "mi")
MAX_TEMPLATE_SESSIONS = 21
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

DEFAULT_PROFILE: dict[str, Any] = {
    "name": "",
    "sex": "unspecified",
    "birth_year": None,
    "body_mass_kg": None,
    "max_hr": None,
    "resting_hr": None,
    "ftp_w": None,  # functional threshold power (or CP), for power-based load
    "timezone": "UTC",
    "mass_unit": "kg",
    "distance_unit": "km",
    "first_day_of_week": "monday",
}

#: Settings that change how views are calculated; every change is an event.
DEFAULT_SETTINGS: dict[str, Any] = {
    "fatigue_model": "trainingpeaks",  # or "goldencheetah" (see the projections issue)
    "atl_days": 7,
    "ctl_days": 42,
    "acwr_method": "ewma",  # or "rolling_coupled", "rolling_uncoupled"
    "hr_zone_bounds_pct": [50, 60, 70, 80, 90, 100],  # Edwards zones, % of max HR
    # conversion readiness criteria (see projections/readiness.py)
    "readiness_adherence_pct": 90,
    "readiness_acwr_low": 0.8,
    "readiness_acwr_high": 1.3,
    "readiness_tsb_min": -30,
}
#: settings earlier versions took and never used: stored changes of them are left out
#: (``ftp_w``: the profile's, with its effective date, is the FTP power-based load uses;
#: ``lthr``: no calculation takes a lactate-threshold heart rate)
RETIRED_SETTINGS = ("ftp_w", "lthr")


def validate_profile(changes: dict[str, Any], this_year: int) -> None:
    """Check a (partial) profile; raises InvalidValue naming the field."""
    unknown = set(changes) - set(DEFAULT_PROFILE)
    if unknown:
        raise InvalidValue("unknown profile field", sorted(unknown)[0])
    if "name" in changes:
        check_text(changes["name"], "name", max_len=200, required=True)
    if "sex" in changes:
        check_choice(changes["sex"], SEXES, "sex")
    if changes.get("birth_year") is not None:
        check_range(changes["birth_year"], 1900, this_year, "birth_year")
    if changes.get("body_mass_kg") is not None:
        check_range(changes["body_mass_kg"], 20, 400, "body_mass")
    if changes.get("max_hr") is not None:
        check_range(changes["max_hr"], 100, 250, "max_hr")
    if changes.get("resting_hr") is not None:
        check_range(changes["resting_hr"], 20, 120, "resting_hr")
    if changes.get("ftp_w") is not None:
        check_range(changes["ftp_w"], 20, 800, "ftp_w")
    if "timezone" in changes:
        check_timezone(changes["timezone"])
    if "mass_unit" in changes:
        check_choice(changes["mass_unit"], MASS_UNITS, "mass_unit")
    if "distance_unit" in changes:
        check_choice(changes["distance_unit"], DISTANCE_UNITS, "distance_unit")
    if "first_day_of_week" in changes:
        check_choice(changes["first_day_of_week"], WEEKDAYS, "first_day_of_week")


def validate_settings(changes: dict[str, Any]) -> None:
    if "ftp_w" in changes:
        raise InvalidValue("not a setting: the FTP is the profile's ftp_w, with the date it "
                           "takes effect (effective_at)", "ftp_w")
    if "lthr" in changes:
        raise InvalidValue("not a setting: no calculation uses a lactate-threshold heart rate "
                           "(heart-rate load takes the profile's max_hr and resting_hr)", "lthr")
    unknown = set(changes) - set(DEFAULT_SETTINGS)
    if unknown:
        raise InvalidValue("unknown setting", sorted(unknown)[0])
    for key in ("fatigue_model", "atl_days", "ctl_days", "acwr_method", "hr_zone_bounds_pct"):
        if key in changes and changes[key] is None:
            raise InvalidValue("cannot be null", key)
    if "fatigue_model" in changes:
        check_choice(changes["fatigue_model"], ("trainingpeaks", "goldencheetah"), "fatigue_model")
    if "acwr_method" in changes:
        check_choice(
            changes["acwr_method"],
            ("ewma", "rolling_coupled", "rolling_uncoupled"),
            "acwr_method",
        )
    for key in ("atl_days", "ctl_days"):
        if key in changes:
            check_range(changes[key], 1, 365, key)
    if "hr_zone_bounds_pct" in changes:
        bounds = changes["hr_zone_bounds_pct"]
        if len(bounds) < 2 or any(b <= a for a, b in itertools.pairwise(bounds)):
            raise InvalidValue("must be at least two increasing percentages", "hr_zone_bounds_pct")
        for b in bounds:
            check_range(b, 1, 110, "hr_zone_bounds_pct")
    for key, low, high in (("readiness_adherence_pct", 0, 100), ("readiness_acwr_low", 0, 5),
                           ("readiness_acwr_high", 0, 5), ("readiness_tsb_min", -300, 300)):
        if key in changes:
            check_range(changes[key], low, high, key)


class Athlete(TrainingAggregate):
    """An athlete's profile history, calculation settings, custom exercises and coach grants."""

    if TYPE_CHECKING:  # plain attributes, not dataclass fields
        settings: dict[str, Any]
        profile_history: list[tuple[datetime, dict[str, Any]]]  # (effective at, changes)
        coach_ids: set[str]
        custom_exercises: dict[str, dict[str, str]]
        deleted: bool
        week_template: list[dict[str, Any]]  # absent until the athlete saves one
        planner_ids: set[str]  # coaches who may plan; absent until the first grant

    class Registered(TrainingAggregate.Created):
        profile: dict[str, Any]

        def apply(self, agg: Athlete) -> None:
            agg.settings = dict(DEFAULT_SETTINGS)
            agg.profile_history = [(self.occurred_at, {**DEFAULT_PROFILE, **self.profile})]
            agg.coach_ids = set()
            agg.custom_exercises = {}
            agg.deleted = False

    class ProfileUpdated(TrainingAggregate.Event):
        changes: dict[str, Any]

        def apply(self, agg: Athlete) -> None:
            # Ordered by the moment each change took effect; ties keep recording order.
            keys = [t for t, _ in agg.profile_history]
            agg.profile_history.insert(
                bisect.bisect_right(keys, self.occurred_at, lo=1),
                (self.occurred_at, self.changes),
            )

    class SettingsChanged(TrainingAggregate.Event):
        changes: dict[str, Any]

        def apply(self, agg: Athlete) -> None:
            agg.settings = {**agg.settings, **{k: v for k, v in self.changes.items()
                                               if k not in RETIRED_SETTINGS}}

    class CoachGranted(TrainingAggregate.Event):
        coach_id: str

        def apply(self, agg: Athlete) -> None:
            agg.coach_ids.add(self.coach_id)

    class CoachGrantRevoked(TrainingAggregate.Event):
        coach_id: str

        def apply(self, agg: Athlete) -> None:
            agg.coach_ids.discard(self.coach_id)
            getattr(agg, "planner_ids", set()).discard(self.coach_id)

    class CoachPlanningGranted(TrainingAggregate.Event):
        """A coach with read access may also plan: plans, objectives, conversions."""

        coach_id: str

        def apply(self, agg: Athlete) -> None:
            agg.planner_ids = {*getattr(agg, "planner_ids", set()), self.coach_id}

    class CoachPlanningRevoked(TrainingAggregate.Event):
        coach_id: str

        def apply(self, agg: Athlete) -> None:
            getattr(agg, "planner_ids", set()).discard(self.coach_id)

    class CustomExerciseDefined(TrainingAggregate.Event):
        exercise_id: str
        name: str
        category: str

        def apply(self, agg: Athlete) -> None:
            agg.custom_exercises[self.exercise_id] = {"name": self.name, "category": self.category}

    class WeekTemplateSaved(TrainingAggregate.Event):
        """The athlete's own week: slots with a day of the week (1 = its first day)."""

        sessions: list[dict[str, Any]]

        def apply(self, agg: Athlete) -> None:
            agg.week_template = [dict(s) for s in self.sessions]

    @classmethod
    def register(
        cls, ctx: Context, profile: dict[str, Any], athlete_id: UUID | None = None
    ) -> Athlete:
        validate_profile(profile, ctx.now.year)
        check_text(profile.get("name"), "name", max_len=200, required=True)
        return cls._start(cls.Registered, ctx, athlete_id or uuid4(), profile=profile)

    @property
    def profile(self) -> dict[str, Any]:
        """The profile as it stands after every change recorded so far."""
        profile: dict[str, Any] = {}
        for _, changes in self.profile_history:
            profile.update(changes)
        return profile

    def profile_on(self, moment: datetime) -> dict[str, Any]:
        """The profile in effect at ``moment`` (the registered one before registration)."""
        profile: dict[str, Any] = {}
        for i, (effective_at, changes) in enumerate(self.profile_history):
            if i and effective_at > moment:
                break
            profile.update(changes)
        return profile

    def update_profile(
        self, ctx: Context, changes: dict[str, Any], effective_at: datetime | None = None
    ) -> None:
        if self.seen_request(ctx):
            return
        if not changes:
            raise InvalidValue("no profile field to change", "profile")
        validate_profile(changes, ctx.now.year)
        self._record(self.ProfileUpdated, ctx, occurred_at=effective_at, changes=changes)

    def change_settings(self, ctx: Context, changes: dict[str, Any]) -> None:
        if self.seen_request(ctx):
            return
        if not changes:
            raise InvalidValue("no setting to change", "settings")
        validate_settings(changes)
        self._record(self.SettingsChanged, ctx, changes=changes)

    def knows_exercise(self, exercise_id: str) -> bool:
        """A catalogue exercise or one of the athlete's own."""
        return get_exercise(exercise_id) is not None or exercise_id in self.custom_exercises

    def save_week_template(self, ctx: Context, sessions: list[dict[str, Any]]) -> None:
        """``sessions``: role, day (1-7), title, sport, objective_id each, and an optional
        ``prescription`` (checked as a slot's; copied into each week planned from it)."""
        if self.seen_request(ctx):
            return
        if not sessions or len(sessions) > MAX_TEMPLATE_SESSIONS:
            raise InvalidValue(f"a template has 1 to {MAX_TEMPLATE_SESSIONS} sessions",
                               "sessions")
        kept = []
        for i, slot in enumerate(sessions):
            field = f"sessions[{i}]"
            check_choice(slot.get("role", ""), ("training", "volume"), f"{field}.role")
            day = slot.get("day")
            if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 7:
                raise InvalidValue("a day of the week: 1 (its first day) to 7", f"{field}.day")
            check_text(slot.get("title"), f"{field}.title", max_len=200)
            check_text(slot.get("sport"), f"{field}.sport", max_len=60)
            if slot["role"] == "volume" and slot.get("objective_id"):
                raise InvalidValue("a volume session has no objective", f"{field}.objective_id")
            made = {k: slot.get(k) for k in ("role", "day", "title", "sport", "objective_id")}
            steps = check_prescription(slot.get("prescription") or [], self.knows_exercise,
                                       field=f"{field}.prescription")
            kept.append({**made, "prescription": steps} if steps else made)
        self._record(self.WeekTemplateSaved, ctx, sessions=kept)

    def grant_coach(self, ctx: Context, coach_id: str) -> None:
        if self.seen_request(ctx) or coach_id in self.coach_ids:
            return
        self._record(self.CoachGranted, ctx, coach_id=coach_id)

    def planners(self) -> set[str]:
        """The coaches who may plan for the athlete."""
        return set(getattr(self, "planner_ids", set()))

    def grant_planning(self, ctx: Context, coach_id: str) -> None:
        if self.seen_request(ctx) or coach_id in self.planners():
            return
        if coach_id not in self.coach_ids:
            raise StateConflict("grant the coach read access first", "coach_id")
        self._record(self.CoachPlanningGranted, ctx, coach_id=coach_id)

    def revoke_planning(self, ctx: Context, coach_id: str) -> None:
        if self.seen_request(ctx):
            return
        if coach_id not in self.planners():
            raise StateConflict("this coach may not plan for the athlete", "coach_id")
        self._record(self.CoachPlanningRevoked, ctx, coach_id=coach_id)

    def revoke_coach(self, ctx: Context, coach_id: str) -> None:
        if self.seen_request(ctx):
            return
        if coach_id not in self.coach_ids:
            raise StateConflict("this coach has no grant from the athlete", "coach_id")
        self._record(self.CoachGrantRevoked, ctx, coach_id=coach_id)

    def define_exercise(self, ctx: Context, exercise_id: str, name: str, category: str) -> None:
        if self.seen_request(ctx):
            return
        check_text(name, "name", max_len=200, required=True)
        if any(e["name"].lower() == name.lower() for e in self.custom_exercises.values()):
            raise StateConflict(f"a custom exercise named {name!r} already exists", "name")
        self._record(
            self.CustomExerciseDefined, ctx, exercise_id=exercise_id, name=name, category=category
        )
