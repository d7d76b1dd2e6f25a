"""FIT import on the real sample corpus: every file, its status, its sport, its sets;
duplicates recognised; bad files rejected with nothing recorded; upload and CLI."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import bearer, new_athlete
from fastapi.testclient import TestClient
from fit_samples import Sample, corpus_dir, require_corpus, samples

from ingest.fit import decode
from ingest.fit.importer import FitResult, import_fit
from services.config import Settings
from services.domain.base import Context, Source
from services.runtime import Runtime
from services.workers import Workers

SOURCE = Source("athlete", "test")
STRENGTH = "fit-analyzer/20748058539_ACTIVITY.fit"


def athlete(rt: Runtime) -> str:
    return str(rt.app.register_athlete(Context(Source("admin")), {"name": "Importer"}).id)


def import_sample(rt: Runtime, athlete_id: str, sample: Sample) -> FitResult:
    return import_fit(rt.app, rt.artifacts, SOURCE, athlete_id, sample.read(), sample.path)


def events(rt: Runtime) -> int:
    return int(rt.app.recorder.max_notification_id() or 0)


def sports_of(rt: Runtime, session_id: str) -> list[str]:
    device = rt.app.session(session_id).device or {}
    names = []
    for leg in device.get("legs", []):
        sub = leg.get("sub_sport")
        name = leg["sport"] + (f"/{sub}" if sub and sub != "generic" else "")
        if name not in names:
            names.append(name)
    return names


def test_every_sample_gets_its_status_and_sport(runtime: Runtime) -> None:
    require_corpus()
    statuses: Counter[str] = Counter()
    for sample in samples():
        athlete_id = athlete(runtime)  # an empty store, as far as this athlete goes
        before = events(runtime)
        result = import_sample(runtime, athlete_id, sample)
        statuses[f"{result.status}-{sample.expected}"] += 1
        if not sample.valid:
            assert result.status == "rejected", sample.path
            assert result.reason
            assert result.reason.startswith(sample.path)
            assert events(runtime) == before, f"{sample.path}: half-written"
            continue
        assert result.status in ("imported", "skipped"), (sample.path, result)
        if result.status == "skipped":
            assert result.reason
            assert sample.path in result.reason
            continue
        if result.session_ids and sample.sport not in ("-", ""):
            expected = list(dict.fromkeys(sample.sport.split("+")))
            got = sports_of(runtime, result.session_ids[0])
            assert [s.split("/")[0] for s in got] == [s.split("/")[0] for s in expected], (
                sample.path, got, expected)
    assert statuses["rejected-corrupt"] == len([s for s in samples() if not s.valid])
    assert statuses["imported-valid"] >= 90


def test_all_samples_together_give_one_session_per_activity(runtime: Runtime) -> None:
    require_corpus()
    athlete_id = athlete(runtime)
    results = [import_sample(runtime, athlete_id, s) for s in samples() if s.valid]
    imported = [r for r in results if r.status == "imported"]
    duplicates = [r for r in results if r.status == "duplicate"]
    assert duplicates, "the corpus holds chained files and re-exports"
    for dup in duplicates:  # each answers with the session already recorded
        assert dup.reason == "already imported"
        assert set(dup.session_ids) <= {i for r in imported for i in r.session_ids}
    sessions = runtime.directory.list("session", athlete_id, limit=1000)
    assert len(sessions) == len({i for r in imported for i in r.session_ids})


def test_the_same_file_twice_is_one_session(runtime: Runtime) -> None:
    require_corpus()
    athlete_id = athlete(runtime)
    sample = next(s for s in samples() if s.path == STRENGTH)
    first = import_sample(runtime, athlete_id, sample)
    count = events(runtime)
    second = import_sample(runtime, athlete_id, sample)
    assert first.status == "imported"
    assert second.status == "duplicate"
    assert second.session_ids == first.session_ids
    assert events(runtime) == count


def test_strength_sets_become_set_events_with_catalogue_exercises(runtime: Runtime) -> None:
    require_corpus()
    sample = next(s for s in samples() if s.path == STRENGTH)
    rows = decode(sample.read()).table("set").rows()
    active = [r for r in rows if r.get("set_type") == "active"]
    result = import_sample(runtime, athlete(runtime), sample)
    session = runtime.app.session(result.session_ids[0])
    assert len(session.sets) == len(active) == result.sets
    logged = list(session.sets.values())
    # the watch hesitated between categories 21 (pull-up), 26 and 10: not one of them taken
    assert logged[0]["exercise_id"] == "unknown"
    assert [c["category"] for c in logged[0]["candidates"]] == [21, 26, 10]
    assert logged[0]["reps"] == 15
    assert logged[0]["rest_s"] == pytest.approx(34.243)
    assert session.device
    assert session.device["sport"] == "training"
    histogram = session.device["hr_histogram"]
    assert histogram
    assert abs(sum(histogram.values()) - session.device["elapsed_s"]) < 300


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
    require_corpus()
    athlete_id, token = new_athlete(client)
    small = [s for s in samples() if s.valid and 2_000 < s.size < 40_000][:6]
    cases = [m for i, s in enumerate(small) for m in mutations(s.read(), 40, i)]
    for start in range(0, len(cases), 20):
        batch = cases[start:start + 20]
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
    require_corpus()
    athlete_id, token = new_athlete(client)
    good = (corpus_dir() / STRENGTH).read_bytes()
    r = client.post(f"/athletes/{athlete_id}/imports/fit", params={"wait": 30}, files=[
        ("files", ("strength.fit", good)), ("files", ("again.fit", good)),
        ("files", ("notes.txt", b"not a fit file at all"))], headers=bearer(token))
    assert r.status_code == 202, r.text
    answers = {a["file"]: a for a in r.json()}
    assert answers["strength.fit"]["status"] == "imported"
    assert answers["again.fit"]["status"] == "duplicate"
    assert answers["notes.txt"]["status"] == "rejected"
    assert "notes.txt" in answers["notes.txt"]["reason"]


def test_cli_imports_a_folder_and_reports_as_json(settings: Settings) -> None:
    require_corpus()
    env_args = ["--data-dir", str(settings.data_dir)]
    run = [sys.executable, "-m", "services.cli", *env_args]
    env: dict[str, Any] = {"TRAINLEDGER_ADMIN_TOKEN": "x", "PATH": "/usr/bin:/bin"}
    if settings.database_url:
        env["TRAINLEDGER_DATABASE_URL"] = settings.database_url
    added = subprocess.run([*run, "athletes", "add", "Cli"], capture_output=True, text=True,
                           env=env, check=False)
    assert added.returncode == 0, added.stderr
    folder = corpus_dir() / "fit-analyzer"
    done = subprocess.run([*run, "import", str(folder), "--json"], capture_output=True,
                          text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [r["status"] for r in results] == ["imported"] * 4
    again = subprocess.run([*run, "import", str(folder), "--json"], capture_output=True,
                           text=True, env=env, check=False)
    assert {r["status"] for r in json.loads(again.stdout)} == {"duplicate"}
    corrupt = next(s for s in samples() if not s.valid)
    bad = subprocess.run([*run, "import", str(corpus_dir() / corrupt.path)],
                         capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 1
    assert corrupt.path.split("/")[-1] in bad.stdout


def test_a_watched_folder_imports_new_files_once_even_across_restarts(
    runtime: Runtime, tmp_path: Path
) -> None:
    require_corpus()
    from ingest.fit.watch import FolderWatcher

    athlete_id = athlete(runtime)
    device = tmp_path / "GARMIN" / "Activity"
    device.mkdir(parents=True)
    (device / "A1.FIT").write_bytes((corpus_dir() / STRENGTH).read_bytes())
    watcher = FolderWatcher(runtime, athlete_id, tmp_path)
    assert watcher.scan() == []  # first sight: let the file settle
    assert [r["status"] for r in watcher.scan()] == ["imported"]
    assert watcher.scan() == []
    restarted = FolderWatcher(runtime, athlete_id, tmp_path)  # a new process, same store
    assert restarted.scan() == []
    assert restarted.scan() == []
    other = next(s for s in samples() if s.path == "FITfileR/garmin-fenix6-swim.fit")
    (device / "A2.FIT").write_bytes(other.read())
    restarted.scan()
    assert [r["status"] for r in restarted.scan()] == ["imported"]
    assert len(runtime.directory.list("session", athlete_id)) == 2
