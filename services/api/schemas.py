"""Request and response models of the HTTP API, with the examples shown at ``/docs``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.commands import SessionCommand

SetType = Literal["warmup", "working", "drop", "failure"]
MassUnit = Literal["kg", "lb"]

EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
When = TypeVar("When", date, datetime)


def _in_range(value: When) -> When:
    """Dates and times a training log can hold. Outside: a session in the year 118 made every
    view walk 700,000 days (15 s a request, for good), a plan for 9999-12-27 made readiness
    overflow (a 500, for good), and 0001-01-01T00:00+05:00 overflows on the way to UTC."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return value


Moment = Annotated[datetime, AfterValidator(_in_range)]
Day = Annotated[date, AfterValidator(_in_range)]

#: Fields taking a local time say so (services.application.in_zone reads them).
LOCAL_TIME = (
    "ISO 8601, with an offset, or without one: a local time in the athlete's time zone. A local "
    "time the clocks skipped (spring forward) is refused (422); one they went through twice "
    "(autumn) is its first occurrence, the earlier instant (give the offset for the second)"
)


#: list offsets beyond this are refused (422): SQLite and PostgreSQL take 64-bit integers only
MAX_OFFSET = 1_000_000_000


class Strict(BaseModel):
    """Request bodies: unknown fields, NaN and infinities are refused (422)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# ------------------------------------------------------------------ athletes, coaches, tokens


class ProfileFields(Strict):
    name: str | None = Field(None, examples=["Ada Lovelace"])
    sex: Literal["female", "male", "unspecified"] | None = None
    birth_year: int | None = Field(None, examples=[1990])
    body_mass: float | None = Field(None, description="In the athlete's mass unit", examples=[72.5])
    max_hr: int | None = Field(None, examples=[188])
    resting_hr: int | None = Field(None, examples=[52])
    ftp_w: int | None = Field(None, examples=[250], description=(
        "Functional threshold power (W), or critical power; with `effective_at` on a patch, "
        "from then on (power-based load, TSS)"))
    timezone: str | None = Field(None, examples=["Europe/London"])
    mass_unit: MassUnit | None = None
    distance_unit: Literal["km", "mi"] | None = None
    first_day_of_week: (
        Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] | None
    ) = None


class AthleteIn(ProfileFields):
    name: str = Field(..., examples=["Ada Lovelace"])


class ProfilePatch(ProfileFields):
    effective_at: Moment | None = Field(
        None, description="When the change took effect (default: now)"
    )


class SettingsPatch(Strict):
    fatigue_model: Literal["trainingpeaks", "goldencheetah"] | None = None
    atl_days: int | None = None
    ctl_days: int | None = None
    acwr_method: Literal["ewma", "rolling_coupled", "rolling_uncoupled"] | None = None
    hr_zone_bounds_pct: list[float] | None = None
    readiness_adherence_pct: float | None = Field(
        None, description="Conversion readiness: minimum training adherence over 3 weeks (%)")
    readiness_acwr_low: float | None = Field(None, description="Readiness: lowest ACWR")
    readiness_acwr_high: float | None = Field(None, description="Readiness: highest ACWR")
    readiness_tsb_min: float | None = Field(None, description="Readiness: lowest form (TSB)")


class AthleteOut(BaseModel):
    athlete_id: str
    profile: dict[str, Any]
    settings: dict[str, Any]
    coach_ids: list[str]
    planner_ids: list[str] = Field([], description="Coaches who may also plan")
    custom_exercises: dict[str, dict[str, str]]
    created_at: datetime
    version: int


class TokenIssued(BaseModel):
    token_id: str
    token: str = Field(..., description="Shown once; only its hash is stored")


class AthleteCreated(BaseModel):
    athlete: AthleteOut
    token_id: str
    token: str


class TokenIn(Strict):
    label: str | None = Field(None, max_length=200, examples=["phone"])


class TokenOut(BaseModel):
    token_id: str
    role: str
    principal_id: str
    label: str | None
    created_at: str
    revoked_at: str | None
    last_used_at: str | None = Field(
        None, description="When it last signed a request in (to within a few seconds)")


class SignInLinkOut(BaseModel):
    url: str = Field(..., description="Open once, on the device to sign in, before it expires; "
                     "the secret is in the fragment (never sent to a server by a browser)")
    secret: str = Field(..., description="The page sends it to `POST /sign-in`")
    expires_at: datetime
    qr_svg: str = Field(..., description="The URL as a QR code to scan with the device: an "
                        "SVG image, as a `data:image/svg+xml` URI")


class SignInIn(Strict):
    secret: str = Field(..., min_length=1, max_length=200,
                        description="The part of the link after `#`")
    label: str | None = Field(None, max_length=200, examples=["Ada's phone"],
                              description="What to call the device; default: its browser and "
                              "system, from its User-Agent")


class DeviceIn(Strict):
    label: str | None = Field(None, max_length=200, examples=["gym tablet"],
                              description="What to call the device; default: its browser and "
                              "system, from its User-Agent")
    replaces: str | None = Field(
        None, max_length=200, description="The device token this browser held until now (it "
        "signs in again): revoked if it is a live device token of the caller's own, ignored "
        "otherwise, so that a browser keeps one entry on /devices")


class SignedIn(BaseModel):
    athlete_id: str
    token_id: str = Field(..., description="Sign out: `DELETE /tokens/{token_id}`")
    token: str = Field(..., description="This device's own token, shown once")
    label: str


class DeviceToken(BaseModel):
    role: str
    principal_id: str | None = Field(..., description="The athlete or coach; None: the admin")
    token_id: str = Field(..., description="Sign out: `DELETE /tokens/{token_id}`")
    token: str = Field(..., description="This device's own token, shown once")
    label: str
    replaced: str | None = Field(None, description="The id of the device token `replaces` "
                                 "revoked; None when it revoked none")


class CoachIn(Strict):
    name: str = Field(..., examples=["Coach Carter"])


class CoachOut(BaseModel):
    coach_id: str
    name: str


class CoachCreated(BaseModel):
    coach: CoachOut
    token_id: str
    token: str


class GrantIn(Strict):
    coach_id: str


class ExerciseIn(Strict):
    name: str = Field(..., examples=["Zercher good morning"])
    category: str = Field(..., examples=["hyperextension"])


class ExerciseOut(BaseModel):
    id: str
    name: str
    category: str
    custom: bool = False


class WhoAmI(BaseModel):
    role: str
    principal_id: str | None
    athlete_ids: list[str]


# ------------------------------------------------------------------ goals


class MetricIn(Strict):
    kind: Literal["e1rm", "weekly_training_sessions", "weekly_volume_load", "body_mass", "custom"]
    exercise_id: str | None = Field(None, examples=["squat.back_squats"])
    name: str | None = Field(
        None, examples=["deep_work_hours"],
        description="Custom metric name: a lower-case letter, then up to 62 lower-case "
        "letters, digits or _ (the rule of observations)",
    )
    per: Literal["day", "week"] | None = Field(
        None, description="body_mass/custom: the daily value (default) or each week's total")


class GoalIn(Strict):
    title: str = Field(..., examples=["Back squat 140 kg"])
    metric: MetricIn
    direction: Literal["increase", "decrease"] = "increase"
    target_value: float = Field(..., examples=[140])
    unit: str = Field("", examples=["kg"])
    deadline: Day | None = Field(None, examples=["2027-03-01"])
    start_value: float | None = None
    notes: str | None = None


class GoalPatch(Strict):
    metric: MetricIn | None = Field(
        None, description="Correct the metric: only while the goal has no values (else 409)"
    )
    title: str | None = None
    target_value: float | None = None
    deadline: Day | None = None
    direction: Literal["increase", "decrease"] | None = None
    notes: str | None = None


class AchieveIn(Strict):
    value: float | None = None
    note: str | None = None


class ReasonIn(Strict):
    reason: str | None = Field(None, max_length=2000)


class GoalOut(BaseModel):
    goal_id: str
    athlete_id: str
    title: str
    metric: dict[str, Any]
    direction: str
    target_value: float
    unit: str
    deadline: date | None
    start_value: float | None
    notes: str | None
    status: str
    version: int


# ------------------------------------------------------------------ plans


class StrengthStepIn(Strict):
    kind: Literal["strength"]
    name: str | None = None
    exercise_id: str = Field(..., examples=["squat.back_squats"])
    sets: int = Field(..., examples=[5], description="1-50")
    reps: int = Field(..., examples=[5], description="Per set, 1-1000")
    load: float | None = Field(None, examples=[100], description="Per rep; in `load_unit`")
    load_unit: MassUnit | None = Field(None, description="Default: the athlete's mass unit")
    load_kg: float | None = Field(None, description="Instead of `load`: in kg, as a plan or "
                                  "template answers it (so an answer can be sent back)")
    rest_s: int | None = Field(None, examples=[180],
                               description="Rest after each set; omitted: until you go on")


class TargetIn(Strict):
    type: Literal["heart_rate", "pace", "power"]
    low: float = Field(..., description="bpm, seconds per km, or watts")
    high: float


class EnduranceStepIn(Strict):
    kind: Literal["endurance"]
    name: str | None = None
    duration_s: int | None = Field(None, examples=[600])
    distance_m: float | None = Field(None, description="Instead of duration_s")
    target: TargetIn | None = None
    intensity: Literal["warmup", "active", "recovery", "rest", "cooldown"] | None = None


Step = Annotated[StrengthStepIn | EnduranceStepIn, Field(discriminator="kind")]


class SlotIn(Strict):
    role: Literal["training", "volume"]
    objective_id: str | None = None
    day: Day | None = None
    title: str | None = None
    sport: str | None = Field(
        None, examples=["running"],
        description="Only a recorded session of this sport matches the slot (any if omitted)",
    )
    prescription: list[Step] | None = Field(
        None, max_length=50, description="The slot's steps, as `PUT .../prescription` takes "
        "them (recorded as its `SlotPrescribed`)")


class PlanIn(Strict):
    week_start: Day = Field(..., examples=["2026-11-23"])
    sessions: list[SlotIn] | None = Field(
        None, description="Omit for the athlete's template (`GET .../week-template`; default: "
        "training on days 1, 3 and 5 of the athlete's week, volume on day 6)"
    )
    objective_ids: list[str] | None = Field(
        None, description="With the template: objectives of its training sessions that have "
        "none, in order"
    )
    repeat_from: Day | None = Field(
        None, examples=["2026-11-16"],
        description="Repeat a planned week: its sessions (not the cancelled ones) on the same "
        "days of this week. Not with `sessions`",
    )


class SlotPatch(Strict):
    """Each field given and different is a plan event of its own: SessionMoved,
    SessionRetitled, SessionSportChanged, SessionObjectiveChanged."""

    day: Day | None = Field(None, description="Move the session to this day of the week")
    title: str | None = None
    sport: str | None = None
    objective_id: str | None = Field(None, description="Training sessions only")


class PrescriptionIn(Strict):
    """The slot's steps, in order; an empty list clears the prescription."""

    steps: list[Step] = (
        Field(..., max_length=50, examples=[[
            {"kind": "strength", "exercise_id": "squat.back_squats", "sets": 5, "reps": 5,
             "load": 100, "rest_s": 180},
            {"kind": "endurance", "duration_s": 600, "intensity": "cooldown",
             "target": {"type": "heart_rate", "low": 110, "high": 130}}]]))


class TemplateSlotIn(Strict):
    role: Literal["training", "volume"]
    day: int = Field(..., ge=1, le=7, description="Day of the athlete's week: 1 is its first")
    title: str | None = None
    sport: str | None = None
    objective_id: str | None = Field(None, description="Training sessions only")
    prescription: list[Step] | None = Field(
        None, max_length=50, description="Steps copied into each week planned from the "
        "template (as `PUT .../prescription` takes them)")


class WeekTemplateIn(Strict):
    sessions: list[TemplateSlotIn] = Field(..., min_length=1, max_length=21)


class WeekTemplateOut(BaseModel):
    athlete_id: str
    custom: bool = Field(..., description="False: the default template")
    sessions: list[dict[str, Any]]


class PlanEventOut(BaseModel):
    event_id: str
    type: str
    occurred_at: datetime
    recorded_at: datetime
    source: dict[str, Any]
    payload: dict[str, Any]


class ConvertIn(Strict):
    objective_id: str | None = Field(
        None, description="Required: the objective (goal) the training session will serve"
    )
    force: bool = Field(
        False, description="Convert although readiness is not `ready`; needs a `reason`"
    )
    reason: str | None = Field(
        None, examples=["Coach's call: deload week ahead"],
        description="Why it is converted anyway (with `force`); kept on the event",
    )


class CommentIn(Strict):
    text: str = Field(..., min_length=1, max_length=4000, examples=["Great depth on set 3"])


class PlanOut(BaseModel):
    plan_id: str
    athlete_id: str
    week_start: date
    sessions: list[dict[str, Any]]
    comments: list[dict[str, Any]] = Field(
        [], description="The athlete's and coaches' comments on the week: text, by, at")
    version: int


class RosterEntry(BaseModel):
    athlete_id: str
    name: str
    can_plan: bool = Field(..., description="The athlete granted this coach planning")


# ------------------------------------------------------------------ sessions and sets


class SetFields(Strict):
    reps: int | None = Field(None, strict=True, examples=[5])
    load: float | None = Field(
        None, description="In load_unit (default: athlete's unit)", examples=[100]
    )
    load_unit: MassUnit | None = None
    rpe: float | None = Field(None, examples=[8])
    rir: float | None = None
    set_type: SetType | None = None
    tempo: str | None = Field(None, examples=["3-1-1-0"])
    rest_s: float | None = None
    duration_s: float | None = None
    notes: str | None = None
    side: Literal["left", "right"] | None = Field(
        None, description="Unilateral work: the side the set worked (omit for both sides)"
    )


class SetIn(SetFields):
    exercise_id: str = Field(..., examples=["squat.back_squats"])
    set_type: SetType = "working"
    performed_at: Moment | None = Field(
        None, description=f"{LOCAL_TIME}. Default: now (in a past session's `sets`: its start)"
    )


class SetPatch(SetFields):
    exercise_id: str | None = None


class EndIn(Strict):
    ended_at: Moment | None = Field(None, description=f"{LOCAL_TIME}. Default: now")
    session_rpe: float | None = Field(None, description="CR-10 session RPE", examples=[7])
    duration_min: float | None = None
    notes: str | None = None
    avg_hr: float | None = None
    max_hr: float | None = None


class SessionIn(Strict):
    started_at: Moment = Field(
        ..., description=LOCAL_TIME, examples=["2026-11-24T18:00:00+00:00"]
    )
    planned_role: Literal["training", "volume", "unplanned"] | None = Field(
        None, description="`unplanned` fills no slot; a role narrows the slot matched")
    objective_id: str | None = None
    planned_session_id: str | None = Field(
        None, description="The slot it fills; omitted, the slot-matching rule picks it: same "
        "day and sport, else same day without a sport, else the earliest open slot earlier in "
        "the week")
    title: str | None = Field(None, examples=["Squat day"])
    sport: str = "strength_training"
    notes: str | None = None
    sets: list[SetIn] | None = Field(None, description="Sets of a past session, logged at once")
    end: EndIn | None = Field(None, description="End a past session in the same request")


def session_command(body: SessionIn) -> SessionCommand:
    """The application's command for a request body."""
    fields = body.model_dump(exclude={"sets", "end"})
    fields["sets"] = [x.model_dump(exclude_none=True) for x in body.sets] if body.sets else None
    fields["end"] = body.end.model_dump() if body.end else None
    return SessionCommand(**fields)


class SessionPatch(Strict):
    started_at: Moment | None = Field(None, description=LOCAL_TIME + ". The real start.")
    ended_at: Moment | None = Field(None, description=LOCAL_TIME + ". The real end (an ended "
                                    "session); with either time and no duration_min, the "
                                    "duration becomes end - start.")
    title: str | None = None
    session_rpe: float | None = None
    duration_min: float | None = None
    notes: str | None = None
    avg_hr: float | None = None
    max_hr: float | None = None
    sport: str | None = None


class LinkIn(Strict):
    objective_id: str | None = None
    planned_session_id: str | None = None


class SetOut(BaseModel):
    set_id: str
    exercise_id: str
    reps: int | None
    load_kg: float | None
    rpe: float | None
    rir: float | None
    set_type: str
    tempo: str | None
    rest_s: float | None
    duration_s: float | None
    notes: str | None
    side: str | None = None
    performed_at: datetime
    unidentified: bool = Field(False, description=(
        "the device could not name the exercise: counted in volume load, never in e1RM, "
        "records or goals; relabel it by amending the set's exercise_id"))
    candidates: list[dict[str, int | None]] | None = Field(None, description=(
        "the FIT exercise categories (with subtype) the device hesitated between"))


class SessionOut(BaseModel):
    session_id: str
    athlete_id: str
    status: Literal["open", "ended", "discarded"]
    planned_role: str
    objective_id: str | None
    planned_session_id: str | None
    started_at: datetime
    ended_at: datetime | None
    timezone: str
    title: str | None
    sport: str
    session_rpe: float | None
    duration_min: float | None
    avg_hr: float | None
    max_hr: float | None
    hr_histogram: dict[str, float] | None = Field(None, description=(
        "Seconds at each heart rate (bpm, as text) a device file recorded; null for a "
        "session logged by hand"))
    partial: bool = Field(False, description=(
        "Imported from a file cut short (salvaged): only its complete records were read; "
        "importing the complete file later updates this session"))
    power_tss: float | None = Field(None, examples=[74.3], description=(
        "Training Stress Score from the file's power (Normalized Power against "
        "`power_tss_from`), whether or not it is the session's load (`GET .../views/load`); "
        "null without power, or without an FTP or CP.  In `GET /sessions/{id}` and the list"))
    power_tss_from: Literal["ftp_w", "file CP"] | None = Field(None, description=(
        "`ftp_w`: the profile's FTP on the session's day; `file CP`: the file's CP"))
    notes: str | None
    sets: list[SetOut]
    comments: list[dict[str, Any]] = Field(
        [], description="The athlete's and coaches' comments: text, by, at")
    prescribed_steps: list[dict[str, Any]] | None = Field(
        None, description="`GET /sessions/{id}` of a session filling a slot with a "
        "prescription: each step `done`, `partial` or `missed`, with what was done (sets, "
        "reps and loads; laps, duration and distance) against it")
    version: int


class LapOut(BaseModel):
    """A lap as the device file recorded it (a field the file lacks is null)."""

    started_at: datetime | None = None
    timer_s: float | None = Field(None, description="moving time, pauses left out")
    elapsed_s: float | None = Field(None, description="wall-clock time, pauses included")
    distance_m: float | None = None
    avg_hr: float | None = None
    max_hr: float | None = None
    avg_speed_m_s: float | None = None
    pace_s_per_km: float | None = Field(None, description="1000 / avg_speed_m_s")
    avg_power_w: float | None = None
    max_power_w: float | None = None
    power_from: str | None = Field(
        None, examples=["developer:Power"], description="set when the lap message gives no "
        "power: the records' field its average and maximum were computed from")
    wkt_step_index: int | None = Field(None, description="the workout step it was run for")


class SetLogged(BaseModel):
    set: SetOut
    session_version: int


# ------------------------------------------------------------------ observations


class ObservationIn(Strict):
    metric: str = Field(..., examples=["sleep_hours"])
    value: float = Field(..., examples=[7.5])
    unit: str = Field(..., examples=["h"])
    observed_at: Moment = Field(
        ..., description=LOCAL_TIME, examples=["2026-11-24T07:00:00+00:00"]
    )
    note: str | None = None


class CheckInValue(Strict):
    metric: str = Field(..., examples=["deep_work_hours"],
                        description="Built in (sleep_hours, body_mass, resting_hr, hrv_rmssd…) "
                        "or custom: a lower-case letter, then lower-case letters, digits, _")
    value: float = Field(..., examples=[3.5])
    unit: str = Field(..., examples=["h"], description="body_mass: kg or lb")


class CheckInIn(Strict):
    observed_at: Moment = Field(..., description=LOCAL_TIME,
                                examples=["2026-11-24T07:00:00+00:00"])
    values: list[CheckInValue] = Field(..., min_length=1, max_length=30)
    note: str | None = None


class ObservationPatch(Strict):
    value: float
    unit: str
    note: str | None = None


class ObservationOut(BaseModel):
    observation_id: str
    athlete_id: str
    metric: str
    value: float
    unit: str
    observed_at: datetime
    note: str | None
    retracted: bool
    version: int


class CheckInOut(BaseModel):
    observations: list[ObservationOut]
