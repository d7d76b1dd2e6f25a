"""The complete file of an activity imported partial (salvaged) updates that session in
place, on both stores, with our own fixture files: same session id, status ``updated``,
the device data replaced, what the athlete entered kept, the load counted once; the same
activity recognised with or without a serial (same athlete and device, start within 60 s).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import bearer, new_athlete
from fastapi.testclient import TestClient
from fit_fixtures import (
    SERIAL,
    START,
    activity,
    by_name,
    partial_activity,
    strength_recording,
)
from support_cli import run_cli
from support_oracle import assert_rebuilt_equal, check_views

from ingest.fit.importer import FitResult, import_fit
from services.config import Settings
from services.domain.base import Context, Source
from services.domain.exercises import is_unidentified
from services.runtime import Runtime
from services.workers import Workers

SOURCE = Source("admin", principal_id="cli")  # as `trainledger import --salvage` records


@pytest.fixture(scope="module")
def intake(runtime: Runtime) -> Iterator[None]:
    """The in-process intake worker, which applies uploaded files."""
    workers = Workers(runtime, relay=False, views=[], log_feed=False).start()
    yield
    workers.stop()


def salvage(rt: Runtime, athlete_id: str, data: bytes, name: str) -> FitResult:
    """Import as ``trainledger import --salvage`` does."""
    return import_fit(rt.app, rt.artifacts, SOURCE, athlete_id, data, name, salvage=True)


def upload(client: TestClient, athlete_id: str, token: str, data: bytes,
           name: str) -> dict[str, Any]:
    r = client.post(f"/athletes/{athlete_id}/imports/fit", params={"wait": 30},
                    files=[("files", (name, data))], headers=bearer(token))
    assert r.status_code == 202, r.text
    answer: dict[str, Any] = r.json()[0]
    return answer


def load_view(client: TestClient, athlete_id: str, token: str) -> dict[str, Any]:
    r = client.get(f"/athletes/{athlete_id}/views/load", headers=bearer(token))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def strength_cut_short() -> tuple[bytes, bytes]:
    """The strength fixture cut inside its records (its sets are all before the cut), and
    the complete file."""
    data = by_name("strength").data
    return data[: len(data) - 600], data


@pytest.mark.usefixtures("intake")
def test_salvage_rate_relabel_then_the_complete_file(client: TestClient,
                                                     runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, max_hr=190, resting_hr=50)
    cut, whole = strength_cut_short()
    first = salvage(runtime, athlete_id, cut, "strength.fit")
    assert first.status == "imported", first
    session_id = first.session_ids[0]
    partial = runtime.app.session(session_id)
    assert partial.device is not None
    assert partial.device["partial"] is True
    partial_minutes = partial.duration_min
    assert partial_minutes is not None
    # the athlete rates the session and names a set the watch could not
    unknown = [k for k, s in partial.sets.items() if is_unidentified(s["exercise_id"])]
    assert unknown
    relabelled = unknown[0]
    me = bearer(token)
    r = client.patch(f"/sessions/{session_id}", headers=me,
                     json={"session_rpe": 7, "notes": "felt strong"})
    assert r.status_code == 200, r.text
    r = client.patch(f"/sessions/{session_id}/sets/{relabelled}", headers=me,
                     json={"exercise_id": "squat.back_squats"})
    assert r.status_code == 200, r.text

    answer = upload(client, athlete_id, token, whole, "strength.fit")
    assert answer["status"] == "updated", answer
    result = answer["request"]["result"]
    assert result["session_ids"] == [session_id]
    assert [s["status"] for s in result["sessions"]] == ["updated"]
    assert result["sessions"][0]["load_source"] == "srpe"

    session = runtime.app.session(session_id)
    assert session.device is not None
    assert session.device["partial"] is False
    assert session.duration_min is not None
    assert session.duration_min > partial_minutes
    assert session.device["timer_s"] == pytest.approx(60 * session.duration_min, abs=1)
    assert sum(session.device["hr_histogram"].values()) > sum(
        partial.device["hr_histogram"].values())
    assert session.device["artifact_sha256"] != partial.device["artifact_sha256"]
    assert session.session_rpe == 7
    assert session.notes == "felt strong"
    assert session.sets[relabelled]["exercise_id"] == "squat.back_squats"
    assert len(session.sets) == len(partial.sets)

    view = load_view(client, athlete_id, token)
    rows = [s for s in view["sessions"] if s["session_id"] == session_id]
    assert len(view["sessions"]) == 1
    assert len(rows) == 1
    assert rows[0]["minutes"] == pytest.approx(session.duration_min, abs=0.01)
    assert rows[0]["load"] == pytest.approx(7 * session.duration_min, abs=0.05)
    day = [d for d in view["days"] if d["load"]]
    assert [d["load"] for d in day] == [pytest.approx(rows[0]["load"])]  # counted once
    check_views(runtime, athlete_id, [])  # every view as the oracle folds the history
    assert_rebuilt_equal(runtime)  # and the read model as a replay of the log builds it

    again = upload(client, athlete_id, token, whole, "copy-of-strength.fit")
    assert again["status"] == "duplicate", again
    assert salvage(runtime, athlete_id, cut, "strength.fit").status == "duplicate"


def test_the_complete_file_adds_its_sets_and_keeps_the_athletes_edits(
        client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client)
    whole, cut_at = strength_recording(START + timedelta(days=40))
    first = salvage(runtime, athlete_id, whole[:cut_at], "gym.fit")
    assert first.status == "imported", first
    session_id = first.session_ids[0]
    partial = runtime.app.session(session_id)
    assert partial.sport == "generic"  # nothing in the first part says what it was
    first_set, second_set, _ = list(partial.sets)
    me = bearer(token)
    for r in (client.patch(f"/sessions/{session_id}/sets/{first_set}", headers=me,
                           json={"exercise_id": "bench_press.barbell_bench_press"}),
              client.delete(f"/sessions/{session_id}/sets/{second_set}", headers=me),
              client.patch(f"/sessions/{session_id}", headers=me, json={"max_hr": 170})):
        assert r.status_code == 200, r.text

    done = salvage(runtime, athlete_id, whole, "gym.fit")
    assert done.status == "updated", done
    assert done.sets == 6
    session = runtime.app.session(session_id)
    assert len(session.sets) == 5  # six from the watch, one the athlete removed
    assert second_set not in session.sets
    assert session.sets[first_set]["exercise_id"] == "bench_press.barbell_bench_press"
    assert session.sport == "training"  # the device's word, the athlete never changed it
    assert session.title is not None
    assert session.title.startswith("Training")
    assert session.max_hr == 170  # the athlete's
    assert session.avg_hr == 108  # the complete file's
    assert session.ended_at == START + timedelta(days=40, seconds=577)


@pytest.mark.parametrize(("serial", "complete_serial"),
                         [(None, None), (3_456_700_001, 3_456_700_001), (None, 3_456_700_002)],
                         ids=["no-serial", "serial", "serial-only-in-the-complete-file"])
def test_the_same_activity_is_recognised_with_or_without_a_serial(
        runtime: Runtime, serial: int | None, complete_serial: int | None) -> None:
    athlete_id = str(runtime.app.register_athlete(Context(Source("admin")),
                                                  {"name": "Runner", "max_hr": 188}).id)
    start = START + timedelta(days=20)
    first = salvage(runtime, athlete_id, partial_activity(start, serial), "cut.fit")
    assert first.status == "imported", first
    # the complete file starts 40 s later (the device restarted its recording clock)
    done = salvage(runtime, athlete_id,
                   activity(start + timedelta(seconds=40), complete_serial), "whole.fit")
    assert done.status == "updated", done
    assert done.session_ids == first.session_ids
    session = runtime.app.session(first.session_ids[0])
    assert session.device is not None
    assert session.device["partial"] is False
    assert session.sport == "running"
    assert session.started_at == start  # the session keeps its start
    # a partial file after the complete one changes nothing
    assert salvage(runtime, athlete_id, partial_activity(start, serial),
                   "cut-again.fit").status == "duplicate"


def test_other_devices_and_starts_are_other_activities(runtime: Runtime) -> None:
    athlete_id = str(runtime.app.register_athlete(Context(Source("admin")),
                                                  {"name": "Two watches"}).id)
    start = START + timedelta(days=30)
    first = salvage(runtime, athlete_id, partial_activity(start, None), "cut.fit")
    later = salvage(runtime, athlete_id, activity(start + timedelta(seconds=61), None),
                    "later.fit")
    other = salvage(runtime, athlete_id, activity(start, None, product=3113), "other.fit")
    serial = salvage(runtime, athlete_id, partial_activity(start + timedelta(hours=5), 1234),
                     "a.fit")
    other_serial = salvage(runtime, athlete_id, activity(start + timedelta(hours=5), 4321),
                           "b.fit")
    assert [r.status for r in (first, later, other, serial, other_serial)] == ["imported"] * 5
    ids = {r.session_ids[0] for r in (first, later, other, serial, other_serial)}
    assert len(ids) == 5


def test_the_cli_salvages_a_zero_size_file_then_updates_it(settings: Settings,
                                                           tmp_path: Path) -> None:
    unfinished = by_name("zero_size")
    assert unfinished.started is not None
    path = unfinished.write(tmp_path)
    complete = tmp_path / "complete.fit"  # the same recording, finished
    complete.write_bytes(activity(unfinished.started, SERIAL + 12))
    assert run_cli(settings, "athletes", "add", "Cli").returncode == 0
    refused = run_cli(settings, "import", str(path))
    assert refused.returncode == 1
    assert f"rejected  {path}: unfinished recording: the FIT header gives a data size of 0" \
        in refused.stdout
    assert "import it with --salvage" in refused.stdout
    salvaged = run_cli(settings, "import", "--salvage", str(path))
    assert salvaged.returncode == 0, salvaged.stdout + salvaged.stderr
    assert "imported: 1" in salvaged.stdout
    made = next(line for line in salvaged.stdout.splitlines() if line.startswith("created"))
    session_id = made.split()[2]
    done = run_cli(settings, "import", str(complete))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"updated   session {session_id}" in done.stdout
    assert "updated: 1" in done.stdout
