"""FIT files that are not activities, on the real SDK samples, as Garmin's SDK writes them:
weight scales (body mass and composition, one user of a multi-user scale) and workouts
(planned sessions, the SDK examples sharing name, serial and creation time).  The same
behaviours, the planned-slot link and salvage are tested everywhere on our own fixture files
in ``test_fit_fixture_import.py``."""

from __future__ import annotations

from datetime import date

from fit_samples import require_corpus, samples

from ingest.fit.importer import FitResult, import_fit
from services.domain.base import Context, Source
from services.domain.weeks import week_start
from services.runtime import Runtime

SOURCE = Source("athlete", "test")
ADMIN = Context(Source("admin"))
SINGLE = "python-fitparse/WeightScaleSingleUser.fit"
MULTI = "python-fitparse/WeightScaleMultiUser.fit"
WORKOUT = "python-fitparse/WorkoutRepeatSteps.fit"
SAME_NAME_OTHER_STEPS = "python-fitparse/WorkoutRepeatGreaterThanStep.fit"


def read(path: str) -> bytes:
    require_corpus()
    return next(s for s in samples() if s.path == path).read()


def athlete(rt: Runtime, **profile: object) -> str:
    return str(rt.app.register_athlete(ADMIN, {"name": "Scale user", **profile}).id)


def imported(rt: Runtime, athlete_id: str, path: str) -> FitResult:
    return import_fit(rt.app, rt.artifacts, SOURCE, athlete_id, read(path), path)


def observations(rt: Runtime, athlete_id: str, result: FitResult) -> list[tuple[str, float]]:
    return sorted((o.metric, o.value) for o in
                  (rt.app.observation(i) for i in result.observation_ids))


def test_a_weight_scale_file_gives_body_mass_and_composition(runtime: Runtime) -> None:
    athlete_id = athlete(runtime)
    result = imported(runtime, athlete_id, SINGLE)
    assert result.status == "imported"
    got = observations(runtime, athlete_id, result)
    # the file's two weighings: 75.8 kg at 22.3 % fat, 76.09 kg at 25.1 % fat
    assert [v for m, v in got if m == "body_mass"] == [75.8, 76.09]
    assert [v for m, v in got if m == "body_fat_pct"] == [22.3, 25.1]
    again = imported(runtime, athlete_id, SINGLE)
    assert again.status == "duplicate"


def test_a_multi_user_scale_takes_only_the_user_matching_the_athlete(runtime: Runtime) -> None:
    # user 0 is a 47-year-old man (75.8 kg), user 1 a 52-year-old woman (58.2 kg)
    woman = athlete(runtime, sex="female")
    result = imported(runtime, woman, MULTI)
    assert result.status == "imported"
    masses = [v for m, v in observations(runtime, woman, result) if m == "body_mass"]
    assert masses
    assert all(v < 70 for v in masses)
    assert 58.2 in masses

    unknown = athlete(runtime)  # sex unspecified: whose weighings are they?
    skipped = imported(runtime, unknown, MULTI)
    assert skipped.status == "skipped"
    assert skipped.reason
    assert skipped.reason.startswith(MULTI)
    assert "multi-user" in skipped.reason
    assert runtime.directory.list("observation", unknown, limit=10) == []


def test_a_workout_file_becomes_a_planned_session(runtime: Runtime) -> None:
    athlete_id = athlete(runtime)
    result = imported(runtime, athlete_id, WORKOUT)
    assert result.status == "imported", result
    assert result.file_type == "workout"
    # the file was created 2009-09-09: the plan of that (Monday-started) week holds it
    week = week_start(date(2009, 9, 9), "monday")
    plan = runtime.app.plan(athlete_id, week)
    slot = plan.sessions[result.planned_session_ids[0]]
    assert slot["role"] == "training"
    assert slot["title"] == "Example 2"
    assert [s.get("wkt_step_name") for s in slot["steps"]] == ["_A_", "B1_", "B2_", "Rep", "_C_"]
    assert slot["steps"][3]["repeat_steps"] == 3

    again = imported(runtime, athlete_id, WORKOUT)
    assert again.status == "duplicate"
    assert again.planned_session_ids == result.planned_session_ids
    # the SDK's examples share name, serial and creation time: different steps, another slot
    other = imported(runtime, athlete_id, SAME_NAME_OTHER_STEPS)
    assert other.status == "imported"
    assert other.planned_session_ids != result.planned_session_ids
    assert len(runtime.app.plan(athlete_id, week).sessions) == 2
