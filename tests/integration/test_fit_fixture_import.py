"""FIT import on our own fixture files (``fit_fixtures``): runs everywhere, no corpus.

The twin of ``test_fit_import.py`` and ``test_fit_file_types.py``: every fixture gets its
status and sport, duplicates and re-exports are one session, damaged files are rejected with
nothing recorded, strength sets, HRV, weight scales (one and several users), workouts,
monitoring, a planned slot found by day and sport, salvage; then the upload, the CLI and the
watched folder.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import bearer, new_athlete
from fastapi.testclient import TestClient
from fit_fixtures import (
    STRENGTH_SETS,
    WORKOUT_STEPS,
    Fixture,
    by_name,
    damaged_fixtures,
    fixtures,
    reexport,
    rmssd,
    rr_intervals,
    valid_fixtures,
    write_all,
)
from support_cli import run_cli
from support_files import run_cli as bare_cli

from ingest.fit.importer import FitResult, import_fit
from services.config import Settings
from services.domain.base import Context, Source
from services.domain.session import TrainingSession
from services.domain.weeks import week_start
from services.runtime import Runtime
from services.workers import Workers

SOURCE = Source("athlete", "test")
ADMIN = Context(Source("admin"))


def athlete(rt: Runtime, **profile: object) -> str:
    return str(rt.app.register_athlete(ADMIN, {"name": "Importer", **profile}).id)


def imported(rt: Runtime, athlete_id: str, fixture: Fixture, **kw: Any) -> FitResult:
    return import_fit(rt.app, rt.artifacts, SOURCE, athlete_id, fixture.data, fixture.filename,
                      **kw)


def events(rt: Runtime) -> int:
    return int(rt.app.recorder.max_notification_id() or 0)


def leg_sports(rt: Runtime, session_id: str) -> list[str]:
    device = rt.app.session(session_id).device or {}
    return [leg["sport"] for leg in device.get("legs", [])]


def test_every_fixture_gets_its_status_and_sport(runtime: Runtime) -> None:
    for fixture in fixtures():
        athlete_id = athlete(runtime, sex="female")
        before = events(runtime)
        result = imported(runtime, athlete_id, fixture)
        if not fixture.valid:
            assert result.status == "rejected", (fixture.name, result)
            assert result.reason
            assert result.reason.startswith(fixture.filename)
            assert events(runtime) == before, f"{fixture.name}: half-written"
            continue
        assert result.status == "imported", (fixture.name, result)
        assert result.file_type == fixture.file_type
        if fixture.sport != "-":
            assert leg_sports(runtime, result.session_ids[0]) == fixture.sport.split("+")
            session = runtime.app.session(result.session_ids[0])
            assert session.started_at == fixture.started
            assert session.status == "ended"


def test_duplicates_and_reexports_are_one_session(runtime: Runtime) -> None:
    athlete_id = athlete(runtime)
    run = by_name("run")
    first = imported(runtime, athlete_id, run)
    count = events(runtime)
    again = imported(runtime, athlete_id, run)
    other_bytes = import_fit(runtime.app, runtime.artifacts, SOURCE, athlete_id, reexport(run),
                             "run-reexport.fit")
    assert first.status == "imported"
    for dup in (again, other_bytes):
        assert dup.status == "duplicate", dup
        assert dup.reason == "already imported"
        assert dup.session_ids == first.session_ids
    assert events(runtime) == count
    assert len(runtime.directory.list("session", athlete_id, limit=100)) == 1


def test_strength_sets_become_set_events_with_catalogue_exercises(runtime: Runtime) -> None:
    result = imported(runtime, athlete(runtime), by_name("strength"))
    session = runtime.app.session(result.session_ids[0])
    assert len(session.sets) == len(STRENGTH_SETS) == result.sets
    logged = list(session.sets.values())
    assert logged[0]["exercise_id"] == "unknown"  # categories 21 or 8: the watch wasn't sure
    assert [c["category"] for c in logged[0]["candidates"]] == [21, 8]
    assert logged[0]["reps"] == 12
    assert logged[0]["rest_s"] == pytest.approx(60.5)
    assert logged[4]["exercise_id"] == "unknown"  # category 65534
    assert logged[4]["load_kg"] == 20.0
    assert logged[5]["exercise_id"] == "unknown"  # three candidates
    assert [c["category"] for c in logged[5]["candidates"]] == [0, 28, 8]
    assert session.device
    assert session.device["sport"] == "training"
    histogram = session.device["hr_histogram"]
    assert abs(sum(histogram.values()) - session.device["elapsed_s"]) < 10


def test_a_set_with_one_category_keeps_it(runtime: Runtime) -> None:
    result = imported(runtime, athlete(runtime), by_name("strength"))
    logged = list(runtime.app.session(result.session_ids[0]).sets.values())
    assert logged[2]["exercise_id"] == "squat.back_squats"  # category 28, subtype 2


def test_a_short_reading_gives_its_hrv(runtime: Runtime) -> None:
    athlete_id = athlete(runtime)
    result = imported(runtime, athlete_id, by_name("hrv"))
    values = {o.metric: o.value for o in
              (runtime.app.observation(i) for i in result.observation_ids)}
    assert values["hrv_rmssd"] == pytest.approx(rmssd(rr_intervals()), abs=0.01)


def test_multisport_and_developer_fields_import(runtime: Runtime) -> None:
    athlete_id = athlete(runtime)
    tri = imported(runtime, athlete_id, by_name("multisport"))
    session = runtime.app.session(tri.session_ids[0])
    assert session.sport == "multisport"
    assert session.device is not None
    assert [leg["avg_hr"] for leg in session.device["legs"]] == [140, 145, 150]
    stryd = imported(runtime, athlete_id, by_name("stryd"))
    assert stryd.status == "imported"
    assert runtime.app.session(stryd.session_ids[0]).sport == "running"


def test_a_weight_scale_file_gives_body_mass_and_composition(runtime: Runtime) -> None:
    athlete_id = athlete(runtime)
    result = imported(runtime, athlete_id, by_name("weight"))
    got = sorted((o.metric, o.value) for o in
                 (runtime.app.observation(i) for i in result.observation_ids))
    assert [v for m, v in got if m == "body_mass"] == [75.8, 76.1]
    assert [v for m, v in got if m == "body_fat_pct"] == [21.9, 22.3]
    assert [v for m, v in got if m == "bone_mass"] == [3.2, 3.2]
    assert "muscle_mass" not in {m for m, _ in got}  # an invalid sentinel
    assert imported(runtime, athlete_id, by_name("weight")).status == "duplicate"


def test_a_multi_user_scale_takes_only_the_user_matching_the_athlete(runtime: Runtime) -> None:
    woman = athlete(runtime, sex="female")
    result = imported(runtime, woman, by_name("weight_multi"))
    masses = sorted(runtime.app.observation(i).value for i in result.observation_ids)
    assert masses == [58.2, 58.5]
    unknown = athlete(runtime)
    skipped = imported(runtime, unknown, by_name("weight_multi"))
    assert skipped.status == "skipped"
    assert skipped.reason
    assert skipped.reason.startswith("weight_multi.fit")
    assert "multi-user" in skipped.reason
    assert runtime.directory.list("observation", unknown, limit=10) == []


def test_a_workout_file_becomes_a_planned_session(runtime: Runtime) -> None:
    athlete_id = athlete(runtime)
    fixture = by_name("workout")
    result = imported(runtime, athlete_id, fixture)
    assert result.status == "imported", result
    assert result.file_type == "workout"
    assert fixture.started is not None  # the file's creation: the plan of that week holds it
    week = week_start(fixture.started.date(), "monday")
    slot = runtime.app.plan(athlete_id, week).sessions[result.planned_session_ids[0]]
    assert slot["title"] == "Threshold 4x5"
    assert [s.get("wkt_step_name") for s in slot["steps"]] == [s[0] for s in WORKOUT_STEPS]
    assert slot["steps"][3]["repeat_steps"] == 4
    again = imported(runtime, athlete_id, fixture)
    assert again.status == "duplicate"
    assert again.planned_session_ids == result.planned_session_ids


def test_monitoring_gives_resting_hr(runtime: Runtime) -> None:
    athlete_id = athlete(runtime)
    result = imported(runtime, athlete_id, by_name("monitoring"))
    assert result.status == "imported", result
    assert [runtime.app.observation(i).value for i in result.observation_ids] == [52]


def test_an_activity_links_to_the_planned_session_of_its_day_and_sport(
    runtime: Runtime,
) -> None:
    run = by_name("run")
    assert run.started is not None
    day = run.started.date()
    athlete_id = athlete(runtime)
    plan = runtime.app.plan_week(ADMIN, athlete_id, week_start(day, "monday"), [
        {"role": "training", "day": day, "title": "Bike", "sport": "cycling"},
        {"role": "volume", "day": day, "title": "Easy run", "sport": "running"},
        {"role": "training", "day": day, "title": "Anything"},
    ])
    run_slot = next(k for k, v in plan.sessions.items() if v["title"] == "Easy run")
    session = runtime.app.session(imported(runtime, athlete_id, run).session_ids[0])
    assert session.sport == "running"
    assert session.planned_session_id == run_slot
    assert session.planned_role == "volume"


def salvaged_session(rt: Runtime, athlete_id: str, fixture: Fixture) -> TrainingSession:
    """The session ``--salvage`` makes of a damaged fixture, checked to be flagged partial."""
    salvaged = imported(rt, athlete_id, fixture, salvage=True)
    assert salvaged.status == "imported", salvaged
    assert salvaged.reason
    assert salvaged.reason.startswith("partial")
    session = rt.app.session(salvaged.session_ids[0])
    assert session.device is not None
    assert session.device["partial"] is True
    return session


def test_salvage_imports_the_readable_part_of_a_truncated_activity(runtime: Runtime) -> None:
    fixture = by_name("truncated")
    athlete_id = athlete(runtime)
    refused = imported(runtime, athlete_id, fixture)
    assert refused.status == "rejected"
    assert refused.reason
    assert refused.reason.startswith(fixture.filename)
    session = salvaged_session(runtime, athlete_id, fixture)
    assert session.device["reconstructed"] is True  # its session message was cut off
    assert session.sport == "running"  # from the sport message
    assert session.ended_at is not None
    assert sum(session.device["hr_histogram"].values()) > 1400  # 25 min of run survived
    again = imported(runtime, athlete_id, fixture, salvage=True)
    assert again.status == "duplicate"


@pytest.mark.parametrize(("name", "sport"), [("zero_size", "running"),
                                              ("zero_size_ride", "cycling")])
def test_a_zero_size_header_is_rejected_naming_the_fault_or_salvaged(
        runtime: Runtime, name: str, sport: str) -> None:
    fixture = by_name(name)
    athlete_id = athlete(runtime)
    before = events(runtime)
    result = imported(runtime, athlete_id, fixture)
    assert result.status == "rejected"
    assert result.reason
    assert result.reason.startswith(f"{fixture.filename}: unfinished recording: the FIT header "
                                    "gives a data size of 0")
    assert "import it with --salvage" in result.reason
    assert events(runtime) == before
    session = salvaged_session(runtime, athlete_id, fixture)
    assert session.sport == sport  # no session message: the sport message or the records'
    assert session.started_at == fixture.started


@pytest.fixture
def intake(runtime: Runtime) -> Iterator[None]:
    """The in-process intake worker, which applies uploaded files."""
    workers = Workers(runtime, relay=False, views=[], log_feed=False).start()
    yield
    workers.stop()


def mutations(data: bytes, n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i % 2:
            out.append(data[: rng.randrange(0, len(data))])
        else:
            flipped = bytearray(data)
            for _ in range(rng.randint(1, 4)):
                flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
            out.append(bytes(flipped))
    return out


@pytest.mark.usefixtures("intake")
def test_mutated_uploads_never_fail_the_server_nor_half_write(
    client: TestClient, runtime: Runtime
) -> None:
    athlete_id, token = new_athlete(client)
    cases = [m for i, f in enumerate(valid_fixtures()) for m in mutations(f.data, 12, i)]
    for start in range(0, len(cases), 24):
        batch = cases[start:start + 24]
        r = client.post(f"/athletes/{athlete_id}/imports/fit", params={"wait": 60},
                        files=[("files", (f"m{start + i}.fit", b)) for i, b in enumerate(batch)],
                        headers=bearer(token))
        assert r.status_code == 202, r.text
        for answer in r.json():
            assert answer["status"] in ("imported", "duplicate", "skipped", "rejected"), answer
    for row in runtime.directory.list("session", athlete_id, limit=1000):
        session = runtime.app.session(row["entity_id"])
        assert session.status == "ended"
        assert session.device is not None


@pytest.mark.usefixtures("intake")
def test_upload_answers_per_file(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    good = by_name("strength").data
    r = client.post(f"/athletes/{athlete_id}/imports/fit", params={"wait": 30}, files=[
        ("files", ("strength.fit", good)), ("files", ("again.fit", good)),
        ("files", ("corrupt.fit", by_name("corrupt").data)),
        ("files", ("notes.txt", b"not a fit file at all"))], headers=bearer(token))
    assert r.status_code == 202, r.text
    answers = {a["file"]: a for a in r.json()}
    assert answers["strength.fit"]["status"] == "imported"
    assert answers["again.fit"]["status"] == "duplicate"
    for bad in ("notes.txt", "corrupt.fit"):
        assert answers[bad]["status"] == "rejected"
        assert bad in answers[bad]["reason"]


def test_cli_imports_a_folder_and_reports_as_json(settings: Settings, tmp_path: Path) -> None:
    added = bare_cli(settings, "athletes", "add", "Cli")
    assert added.returncode == 0, added.stderr
    folder = tmp_path / "device"
    write_all(folder, ["run", "ride", "strength", "hrv"])
    done = bare_cli(settings, "import", str(folder), "--json")
    assert done.returncode == 0, done.stderr
    assert [r["status"] for r in json.loads(done.stdout)] == ["imported"] * 4
    again = bare_cli(settings, "import", str(folder), "--json")
    assert {r["status"] for r in json.loads(again.stdout)} == {"duplicate"}
    for damaged in damaged_fixtures():
        path = damaged.write(tmp_path / "bad")
        bad = bare_cli(settings, "import", str(path))
        assert bad.returncode == 1, (damaged.name, bad.stdout, bad.stderr)
        assert damaged.filename in bad.stdout
        assert "Traceback" not in bad.stderr


def test_a_watched_folder_imports_new_files_once_even_across_restarts(
    runtime: Runtime, tmp_path: Path
) -> None:
    from ingest.fit.watch import FolderWatcher

    athlete_id = athlete(runtime)
    device = tmp_path / "GARMIN" / "Activity"
    device.mkdir(parents=True)
    (device / "A1.FIT").write_bytes(by_name("strength").data)
    watcher = FolderWatcher(runtime, athlete_id, tmp_path)
    assert watcher.scan() == []  # first sight: let the file settle
    assert [r["status"] for r in watcher.scan()] == ["imported"]
    assert watcher.scan() == []
    restarted = FolderWatcher(runtime, athlete_id, tmp_path)  # a new process, same store
    assert restarted.scan() == []
    assert restarted.scan() == []
    (device / "A2.FIT").write_bytes(by_name("ride").data)
    restarted.scan()
    assert [r["status"] for r in restarted.scan()] == ["imported"]
    assert len(runtime.directory.list("session", athlete_id)) == 2


def test_a_salvaged_session_is_marked_partial_in_the_api_and_the_cli(
        runtime: Runtime, client: TestClient) -> None:
    athlete_id = athlete(runtime)
    salvaged = imported(runtime, athlete_id, by_name("truncated"), salvage=True)
    whole = imported(runtime, athlete_id, by_name("run"))
    admin = bearer(runtime.settings.admin_token)
    shown = {sid: client.get(f"/sessions/{sid}", headers=admin).json()["partial"]
             for sid in (*salvaged.session_ids, *whole.session_ids)}
    assert shown == {salvaged.session_ids[0]: True, whole.session_ids[0]: False}
    listed = run_cli(runtime.settings, "sessions", "--athlete", athlete_id)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert "partial" in rows[salvaged.session_ids[0]]
    assert "partial" not in rows[whole.session_ids[0]]


@pytest.mark.usefixtures("intake")
@pytest.mark.parametrize("name", ["truncated", "zero_size"])
def test_upload_salvages_a_damaged_file_with_salvage_true(client: TestClient,
                                                         runtime: Runtime, name: str) -> None:
    """``POST .../imports/fit?salvage=true``: the upload's ``--salvage``, in the OpenAPI."""
    fixture = by_name(name)
    athlete_id, token = new_athlete(client)

    def upload(**params: Any) -> dict[str, Any]:
        r = client.post(f"/athletes/{athlete_id}/imports/fit", params={"wait": 30, **params},
                        files=[("files", (fixture.filename, fixture.data))],
                        headers=bearer(token))
        assert r.status_code == 202, r.text
        (answer,) = r.json()
        return dict(answer)

    refused = upload()
    assert refused["status"] == "rejected", refused
    assert refused["reason"].startswith(fixture.filename)
    if name == "zero_size":
        assert "salvage=true" in refused["reason"]
    assert runtime.directory.list("session", athlete_id, limit=10) == []
    salvaged = upload(salvage="true")
    assert salvaged["status"] == "imported", salvaged
    (session_id,) = salvaged["request"]["result"]["session_ids"]
    r = client.get(f"/sessions/{session_id}", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["partial"] is True
    assert r.json()["started_at"].startswith(fixture.started.isoformat()[:19])
    again = upload(salvage="true")
    assert again["status"] == "duplicate", again
    r = client.post(f"/athletes/{athlete_id}/imports/fit", params={"salvage": "maybe"},
                    files=[("files", (fixture.filename, fixture.data))], headers=bearer(token))
    assert r.status_code == 422, r.text
    assert "salvage" in r.text

    operation = client.get("/openapi.json").json()["paths"][
        "/athletes/{athlete_id}/imports/fit"]["post"]
    (param,) = [p for p in operation["parameters"] if p["name"] == "salvage"]
    assert param["in"] == "query"
    assert param["schema"]["default"] is False
    assert "partial" in param["description"]
