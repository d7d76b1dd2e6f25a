"""FIT import on the real sample corpus, where it adds to the fixture tests
(``test_fit_fixture_import.py``, which cover each behaviour everywhere): every sample gets its
status and sport, bad ones are rejected with nothing recorded, all of them together give one
session per activity, and a real strength watch's sets."""

from __future__ import annotations

from collections import Counter

import pytest
from fit_samples import Sample, require_corpus, samples

from ingest.fit import decode
from ingest.fit.importer import FitResult, import_fit
from services.domain.base import Context, Source
from services.runtime import Runtime

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
