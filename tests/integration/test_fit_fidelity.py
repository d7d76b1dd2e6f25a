"""Import fidelity, through the API (and the CLI) on both stores, with real device files
from the corpus (every test but the one on an old session uses it): HRV kept on long
sessions, the file's own max HR for load, timer time, device names, multisport HR, laps,
and sets the watch could not identify."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from conftest import bearer, new_athlete
from fastapi.testclient import TestClient
from fit_samples import corpus_dir, require_corpus
from support_files import run_cli as bare_cli
from support_fit_fidelity import (
    COROS_RUN,
    EDGE_RIDE,
    FILE_MAX_HR,
    LAPS_RIDE,
    LONG_HRV,
    MULTISPORT,
    NO_FILE_HR,
    SHORT_HRV,
    STRENGTH,
    load_row,
    session,
    upload,
)

from services.config import Settings
from services.domain.base import Context, Source
from services.domain.session import TrainingSession
from services.runtime import Runtime
from services.workers import Workers


@pytest.fixture(scope="module", autouse=True)
def intake(runtime: Runtime) -> Iterator[None]:
    """The in-process intake worker, which applies uploaded files."""
    workers = Workers(runtime, relay=False, views=[], log_feed=False).start()
    yield
    workers.stop()


def test_a_long_activity_keeps_its_rmssd_and_says_why_no_observation(
        client: TestClient, runtime: Runtime) -> None:
    require_corpus()
    athlete_id, token = new_athlete(client)
    result = upload(client, athlete_id, token, LONG_HRV)
    assert "observation_ids" not in result
    assert any("no HRV observation: the activity lasted 64 min" in n for n in result["notes"])
    hrv = runtime.app.session(result["session_ids"][0]).device["hrv"]  # type: ignore[index]
    assert hrv["beats"] == 8162
    assert hrv["corrected"] > 0
    assert 5 <= hrv["rmssd_ms"] <= 250


def test_a_short_reading_is_an_observation_of_the_corrected_rmssd(
        client: TestClient, runtime: Runtime) -> None:
    require_corpus()
    athlete_id, token = new_athlete(client)
    result = upload(client, athlete_id, token, SHORT_HRV)
    assert len(result["observation_ids"]) == 1
    hrv = runtime.app.session(result["session_ids"][0]).device["hrv"]  # type: ignore[index]
    obs = runtime.app.observation(result["observation_ids"][0])
    assert obs.metric == "hrv_rmssd"
    assert obs.value == hrv["rmssd_ms"]


def test_without_a_profile_max_hr_the_files_own_gives_the_load(client: TestClient) -> None:
    require_corpus()
    athlete_id, token = new_athlete(client)
    result = upload(client, athlete_id, token, FILE_MAX_HR)
    assert any("load from the file's max HR (196 bpm)" in n for n in result["notes"])
    row = load_row(client, athlete_id, token, result["session_ids"][0])
    assert row["load_source"] == "trimp_edwards (file max HR)"
    assert row["load"] > 0
    # the athlete adopts a max HR from before the session: the profile's is used from then on
    r = client.patch(f"/athletes/{athlete_id}/profile", headers=bearer(token), json={
        "max_hr": 190, "effective_at": "2025-01-01T00:00:00+00:00"})
    assert r.status_code == 200, r.text
    row = load_row(client, athlete_id, token, result["session_ids"][0])
    assert row["load_source"] == "trimp_edwards"


def test_no_max_hr_anywhere_is_said_not_silent(client: TestClient) -> None:
    require_corpus()
    athlete_id, token = new_athlete(client)
    result = upload(client, athlete_id, token, NO_FILE_HR)
    assert any(n.startswith("no load yet: no max HR in the profile") for n in result["notes"])
    assert load_row(client, athlete_id, token, result["session_ids"][0])["load_source"] == "none"


def test_duration_is_timer_time_and_elapsed_time_is_kept(
        client: TestClient, runtime: Runtime) -> None:
    require_corpus()
    athlete_id, token = new_athlete(client, max_hr=185)
    result = upload(client, athlete_id, token, EDGE_RIDE)
    got = session(client, token, result["session_ids"][0])
    assert got["duration_min"] == pytest.approx(8611.183 / 60, abs=0.01)
    device = runtime.app.session(result["session_ids"][0]).device or {}
    assert device["elapsed_s"] == pytest.approx(9525.7, abs=1)
    assert device["timer_s"] == pytest.approx(8611.183)
    row = load_row(client, athlete_id, token, result["session_ids"][0])
    assert row["minutes"] == pytest.approx(8611.183 / 60, abs=0.01)


def test_names_and_multisport_heart_rate(client: TestClient) -> None:
    require_corpus()
    athlete_id, token = new_athlete(client)
    coros = upload(client, athlete_id, token, COROS_RUN)
    assert session(client, token, coros["session_ids"][0])["title"] == "Running (COROS APEX Pro)"
    multi = upload(client, athlete_id, token, MULTISPORT)
    got = session(client, token, multi["session_ids"][0])
    assert got["title"] == "Multisport (garmin fr945)"
    # legs 69 bpm for 55.353 s and 74 bpm for 21.519 s: (69 × 55.353 + 74 × 21.519) / 76.872
    assert got["avg_hr"] == pytest.approx(70.4)


def test_laps_with_their_times_distance_heart_rate_and_pace(client: TestClient) -> None:
    require_corpus()
    athlete_id, token = new_athlete(client)
    result = upload(client, athlete_id, token, LAPS_RIDE)
    session_id = result["session_ids"][0]
    r = client.get(f"/sessions/{session_id}/laps", headers=bearer(token))
    assert r.status_code == 200, r.text
    laps = r.json()
    assert len(laps) == 8
    first = laps[0]
    assert first == {
        "started_at": "2013-08-16T18:05:10Z", "timer_s": 1207.35, "elapsed_s": 1207.35,
        "distance_m": 9220.46, "avg_hr": 139.0, "max_hr": 153.0, "avg_speed_m_s": 7.637,
        "pace_s_per_km": 130.9, "avg_power_w": 252.0, "max_power_w": 458.0,
        "power_from": None,  # the lap's own power
        "wkt_step_index": None}  # a ride not run from a workout
    # auth as for the session itself
    _, stranger = new_athlete(client, "Stranger")
    assert client.get(f"/sessions/{session_id}/laps",
                      headers=bearer(stranger)).status_code in (403, 404)
    assert client.get(f"/sessions/{session_id}/laps").status_code == 401
    # a session logged by hand has no laps
    started = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    r = client.post(f"/athletes/{athlete_id}/sessions", headers=bearer(token),
                    json={"started_at": started})
    assert client.get(f"/sessions/{r.json()['session_id']}/laps",
                      headers=bearer(token)).json() == []


def test_unidentified_sets_stay_per_set_and_count_only_toward_volume(
        client: TestClient) -> None:
    require_corpus()
    athlete_id, token = new_athlete(client)
    result = upload(client, athlete_id, token, STRENGTH)
    session_id = result["session_ids"][0]
    sets = session(client, token, session_id)["sets"]
    assert len(sets) == 14
    assert all(s["unidentified"] for s in sets)
    hesitant = [s for s in sets if s["candidates"]]
    assert len(hesitant) == 8
    assert {"category": 26, "subtype": None} in hesitant[0]["candidates"]
    # no e1RM, records or exercise of their own; the volume load counts them
    me = bearer(token)
    strength = client.get(f"/athletes/{athlete_id}/views/strength", headers=me).json()
    assert strength["exercises"] == []
    volume = sum((s["reps"] or 0) * (s["load_kg"] or 0) for s in sets)
    row = load_row(client, athlete_id, token, session_id)
    assert row["volume_load_kg"] == pytest.approx(volume)
    # relabelling is a set amendment: the set then counts as that exercise
    weighted = next(s for s in sets if s["reps"] and s["load_kg"])
    r = client.patch(f"/sessions/{session_id}/sets/{weighted['set_id']}", headers=me,
                     json={"exercise_id": "squat.back_squats"})
    assert r.status_code == 200, r.text
    relabelled = next(s for s in r.json()["sets"] if s["set_id"] == weighted["set_id"])
    assert not relabelled["unidentified"]
    assert relabelled["candidates"] == weighted["candidates"]
    strength = client.get(f"/athletes/{athlete_id}/views/strength", headers=me).json()
    assert [e["exercise_id"] for e in strength["exercises"]] == ["squat.back_squats"]


def test_a_session_imported_with_elapsed_time_is_counted_by_its_timer_time(
        client: TestClient, runtime: Runtime) -> None:
    """Upgrade: before this release an import's duration was the file's elapsed time; such
    a stored session counts by its timer time (no corpus needed: the events are built as
    the old importer wrote them)."""
    athlete_id, token = new_athlete(client)
    ctx = Context(Source("athlete", athlete_id))
    started = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    old = TrainingSession.start(ctx, athlete_id, started, "UTC", title="Cycling (garmin edge)",
                                sport="cycling")
    old.record_device(ctx, {"sport": "cycling", "elapsed_s": 9525.705, "timer_s": 8611.183,
                            "hr_histogram": {}})
    old.end(ctx, started + timedelta(seconds=9525.705), None,
            duration_min=round(9525.705 / 60, 2))
    runtime.app.save(old)
    row = load_row(client, athlete_id, token, str(old.id))
    assert row["minutes"] == pytest.approx(8611.183 / 60, abs=0.01)


def test_the_cli_prints_the_notes_of_an_import(settings: Settings) -> None:
    require_corpus()
    added = bare_cli(settings, "athletes", "add", "Cli")
    assert added.returncode == 0, added.stderr
    done = bare_cli(settings, "import", str(corpus_dir() / LONG_HRV))
    assert done.returncode == 0, done.stderr
    assert "no HRV observation: the activity lasted 64 min" in done.stdout
    assert "no load yet: no max HR in the profile on 2017-01-26 nor in the file" in done.stdout
