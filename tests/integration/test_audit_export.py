"""Audit and export on both stores: the athlete's event history (paged, filtered, who
recorded what), explanations of view values, JSON Lines and CSV exports, and the CLI export."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient
from fit_fixtures import by_name
from support_cli import run_cli, run_on_terminal

from ingest.fit.importer import fit_payload, import_fit
from projections.analytics import VIEWS
from projections.science.strength import e1rm
from services.cli import main
from services.config import Settings
from services.demo import seed_demo
from services.domain.base import Source
from services.export import TABLES
from services.runtime import Runtime, open_runtime

SQUAT = "squat.back_squats"
TOKEN_RE = re.compile(r"tl[akc]_[\w-]{20,}")


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).replace(microsecond=0).isoformat()


def ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


def events(client: TestClient, athlete_id: str, headers: dict[str, str],
           **params: Any) -> dict[str, Any]:
    return dict(ok(client.get(f"/athletes/{athlete_id}/events", params=params,
                              headers=headers)))


def all_pages(client: TestClient, athlete_id: str, headers: dict[str, str],
              **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        got = events(client, athlete_id, headers, **params,
                     **({"cursor": cursor} if cursor else {}))
        out += got["events"]
        cursor = got["next_cursor"]
        if cursor is None:
            return out


def types(items: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in items]


@pytest.fixture(scope="module")
def demo(runtime: Runtime) -> str:
    athlete_id = seed_demo(runtime.app).athlete_id
    runtime.feed.catch_up_all()
    return athlete_id


# ------------------------------------------------------------------ the audit trail


def test_history_is_paged_in_recorded_order_and_filtered(client: TestClient) -> None:
    athlete_id, token = new_athlete(client, "Audra")
    me = bearer(token)
    session = ok(client.post(f"/athletes/{athlete_id}/sessions", headers=me, json={
        "started_at": ago(hours=2), "sets": [
            {"exercise_id": SQUAT, "reps": 5, "load": 100, "rpe": 8},
            {"exercise_id": SQUAT, "reps": 5, "load": 105, "rpe": 8.5},
            {"exercise_id": SQUAT, "reps": 3, "load": 110, "rpe": 9}]}))
    session_id, first_set = session["session_id"], session["sets"][0]["set_id"]
    ok(client.patch(f"/sessions/{session_id}/sets/{first_set}", json={"reps": 6},
                    headers=bearer(token, **{"Idempotency-Key": "amend-1"})))
    ok(client.post(f"/sessions/{session_id}/end", json={"session_rpe": 8}, headers=me))
    obs = ok(client.post(f"/athletes/{athlete_id}/observations", headers=me, json={
        "metric": "body_mass", "value": 80, "unit": "kg", "observed_at": ago(hours=1)}))
    goal = ok(client.post(f"/athletes/{athlete_id}/goals", headers=me, json={
        "title": "Squat 140", "metric": {"kind": "e1rm", "exercise_id": SQUAT},
        "target_value": 140}))

    expected = ["Registered", "Started", "SetLogged", "SetLogged", "SetLogged", "SetAmended",
                "Ended", "Recorded", "Set"]
    everything = events(client, athlete_id, me, limit=1000)
    assert everything["total"] == 9
    assert everything["next_cursor"] is None
    trail = everything["events"]
    assert types(trail) == expected
    recorded = [e["recorded_at"] for e in trail]
    assert recorded == sorted(recorded)
    assert [(e["aggregate_kind"], e["version"]) for e in trail] == [
        ("athlete", 1), ("session", 1), ("session", 2), ("session", 3), ("session", 4),
        ("session", 5), ("session", 6), ("observation", 1), ("goal", 1)]
    assert trail[7]["aggregate_id"] == obs["observation_id"]
    assert trail[8]["aggregate_id"] == goal["goal_id"]

    # one event in full: who recorded it (role and principal, no token), its payload
    logged = trail[2]
    assert logged["event_id"] == f"{session_id}:2"
    assert logged["aggregate_id"] == session_id
    assert logged["source"] == {"entry": "hand", "kind": "athlete", "principal_id": athlete_id,
                                "import_id": None, "file_hash": None, "request_id": None}
    assert logged["payload"] == {
        "set_id": first_set, "exercise_id": SQUAT, "reps": 5, "load_kg": 100.0, "rpe": 8.0,
        "rir": None, "set_type": "working", "tempo": None, "rest_s": None, "duration_s": None,
        "notes": None, "side": None, "candidates": None, "wkt_step_index": None}
    assert logged["occurred_at"] == session["sets"][0]["performed_at"].replace("Z", "+00:00")
    amended = trail[5]
    assert amended["payload"] == {"set_id": first_set, "changes": {"reps": 6}}
    assert amended["source"]["request_id"]  # the idempotency key's request id, not the key
    assert trail[0]["source"]["kind"] == "admin"

    # pages of 4: 4 + 4 + 1, the same events in the same order
    pages = []
    cursor = None
    for _ in range(3):
        got = events(client, athlete_id, me, limit=4, **({"cursor": cursor} if cursor else {}))
        assert got["total"] == 9
        pages.append(got["events"])
        cursor = got["next_cursor"]
    assert [len(p) for p in pages] == [4, 4, 1]
    assert cursor is None
    assert [e for p in pages for e in p] == trail

    # by type: repeated or comma-separated, short or qualified names
    sets = events(client, athlete_id, me, type="SetLogged")["events"]
    assert [e["version"] for e in sets] == [2, 3, 4]
    assert types(events(client, athlete_id, me, type=["SetLogged", "Ended"])["events"]) == [
        "SetLogged", "SetLogged", "SetLogged", "Ended"]
    assert types(events(client, athlete_id, me,
                        type="TrainingSession.SetAmended,Recorded")["events"]) == [
        "SetAmended", "Recorded"]
    assert types(all_pages(client, athlete_id, me, type="SetLogged", limit=2)) == [
        "SetLogged"] * 3

    # by recorded time, bounds inclusive; a bare date is a whole day
    since, until = trail[5]["recorded_at"], trail[6]["recorded_at"]
    assert types(events(client, athlete_id, me, since=since)["events"]) == expected[5:]
    assert types(events(client, athlete_id, me, until=until)["events"]) == expected[:7]
    assert types(events(client, athlete_id, me, since=since, until=until)["events"]) == [
        "SetAmended", "Ended"]
    today = datetime.now(UTC).date()
    assert events(client, athlete_id, me,
                  since=(today - timedelta(days=1)).isoformat())["total"] == 9
    assert events(client, athlete_id, me, since=(today + timedelta(days=1)).isoformat(),
                  )["total"] == 0
    assert events(client, athlete_id, me, until=(today - timedelta(days=1)).isoformat(),
                  )["total"] == 0
    assert events(client, athlete_id, me, type="SetLogged", since=since)["total"] == 0


@pytest.mark.parametrize(("path", "params", "field"), [
    ("events", {"since": "yesterday"}, "since"),
    ("events", {"until": "2026-13-01"}, "until"),
    ("events", {"since": "2026-11-02", "until": "2026-11-01"}, "since"),
    ("events", {"type": "SetLoged"}, "type"),
    ("events", {"type": "SetLogged,Nope"}, "type"),
    ("events", {"cursor": "not-a-cursor"}, "cursor"),
    ("events", {"limit": "0"}, "limit"),
    ("events", {"limit": "5000"}, "limit"),
    ("export/events.jsonl", {"since": "soon"}, "since"),
    ("export/events.jsonl", {"type": "Nope"}, "type"),
    ("export/mood.csv", {}, "view"),
    ("export/fatigue.csv", {"as_of": "last week"}, "as_of"),
    ("views/mood/explain", {}, "view"),
    ("views/fatigue/explain", {}, "view"),
    ("views/strength/explain", {"as_of": "2026-02-30"}, "as_of"),
], ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={x}" for k, x in v.items()))
def test_bad_input_is_422_naming_the_field(client: TestClient, path: str,
                                           params: dict[str, str], field: str) -> None:
    athlete_id, token = new_athlete(client, "Bad")
    r = client.get(f"/athletes/{athlete_id}/{path}", params=params, headers=bearer(token))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["detail"].startswith(f"{field}:"), body
    assert body["errors"][0]["field"] == field


def test_unknown_type_lists_the_known_ones(client: TestClient) -> None:
    athlete_id, token = new_athlete(client, "Typo")
    r = client.get(f"/athletes/{athlete_id}/events", params={"type": "SetLoged"},
                   headers=bearer(token))
    assert r.status_code == 422
    assert "unknown event type 'SetLoged'" in r.json()["detail"]
    assert "SetLogged" in r.json()["detail"]


def test_only_readers_of_the_athlete_see_its_history(client: TestClient) -> None:
    a_id, a_token = new_athlete(client, "Owner")
    _, b_token = new_athlete(client, "Other")
    coach = ok(client.post("/coaches", json={"name": "Coach"}, headers=ADMIN))
    coach_headers = bearer(coach["token"])
    paths = [f"/athletes/{a_id}/events", f"/athletes/{a_id}/export/events.jsonl",
             f"/athletes/{a_id}/export/load.csv", f"/athletes/{a_id}/views/strength/explain"]

    def statuses(headers: dict[str, str]) -> list[int]:
        return [client.get(p, headers=headers).status_code for p in paths]

    assert statuses(bearer(a_token)) == [200] * 4
    assert statuses(ADMIN) == [200] * 4
    assert statuses(bearer(b_token)) == [404] * 4  # as if it did not exist
    assert statuses(coach_headers) == [404] * 4  # no grant yet
    ok(client.post(f"/athletes/{a_id}/grants", json={"coach_id": coach["coach"]["coach_id"]},
                   headers=bearer(a_token)))
    assert statuses(coach_headers) == [200] * 4
    assert [client.get(p).status_code for p in paths] == [401] * 4
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"/athletes/{missing}/events", headers=ADMIN).status_code == 404


def test_a_device_import_shows_the_files_hash(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, "Device")
    strength = by_name("strength")
    data = strength.data
    digest = hashlib.sha256(data).hexdigest()
    result = import_fit(runtime.app, runtime.artifacts, Source("athlete", athlete_id),
                        athlete_id, data, strength.filename)
    assert result.status == "imported", result
    trail = all_pages(client, athlete_id, bearer(token), limit=200)
    from_file = [e for e in trail if e["aggregate_kind"] != "athlete"]
    assert {"Started", "DeviceRecorded", "SetLogged", "Ended"} <= set(types(from_file))
    for e in from_file:
        assert e["source"]["entry"] == "import"
        assert e["source"]["file_hash"] == digest
        assert e["source"]["principal_id"] == athlete_id
    device = next(e for e in from_file if e["type"] == "DeviceRecorded")
    assert device["payload"]["summary"]["artifact_sha256"] == digest
    assert len([e for e in from_file if e["type"] == "SetLogged"]) == result.sets

    # through the upload queue the import request's id is there too
    other = by_name("ride")
    record = runtime.imports.submit(athlete_id, "fit", fit_payload(other.filename, other.data),
                                    Source("athlete", athlete_id))
    runtime.intake.process(record.import_id)
    done = runtime.imports.get(record.import_id)
    assert done is not None
    assert done.status == "imported", done
    uploaded = [e for e in all_pages(client, athlete_id, bearer(token), limit=500)
                if e["source"]["import_id"] == record.import_id]
    assert uploaded
    assert {e["source"]["file_hash"] for e in uploaded} == {
        hashlib.sha256(other.data).hexdigest()}


# ------------------------------------------------------------------ explanations


def test_explain_strength_names_the_exact_set_events(client: TestClient) -> None:
    athlete_id, token = new_athlete(client, "Lifter")
    me = bearer(token)
    first = ok(client.post(f"/athletes/{athlete_id}/sessions", headers=me, json={
        "started_at": ago(days=2), "sets": [
            {"exercise_id": SQUAT, "reps": 5, "load": 100, "rpe": 8}]}))
    second = ok(client.post(f"/athletes/{athlete_id}/sessions", headers=me, json={
        "started_at": ago(days=1), "sets": [
            {"exercise_id": SQUAT, "reps": 3, "load": 110, "rpe": 9}]}))
    s1, a = first["session_id"], first["sets"][0]["set_id"]
    s2, b = second["session_id"], second["sets"][0]["set_id"]
    before_amend = events(client, athlete_id, me, type="SetLogged")["events"][-1]["recorded_at"]
    ok(client.patch(f"/sessions/{s1}/sets/{a}", json={"reps": 6}, headers=me))

    def explain(**params: str) -> dict[str, Any]:
        return dict(ok(client.get(f"/athletes/{athlete_id}/views/strength/explain",
                                  params=params, headers=me)))

    def event_ids(ref: dict[str, Any]) -> list[str]:
        return [e["event_id"] for e in ref["events"]]

    # now: A amended to 6 reps @ RPE 8: 100 × (1 + 8/30) = 126.67 beats B, 110 × (1 + 4/30)
    now = explain()
    squat = now["exercises"][0]
    assert squat["best_e1rm_kg"] == pytest.approx(round(e1rm(100, 6, 8), 2)) == 126.67
    assert (squat["best_e1rm_set"]["session_id"], squat["best_e1rm_set"]["set_id"]) == (s1, a)
    assert event_ids(squat["best_e1rm_set"]) == [f"{s1}:2", f"{s1}:3"]
    assert types(squat["best_e1rm_set"]["events"]) == ["SetLogged", "SetAmended"]
    assert squat["best_e1rm_set"]["events"][1]["changes"] == {"reps": 6}
    assert event_ids(squat["latest_e1rm_set"]) == [f"{s2}:2"]
    assert [(d["e1rm_kg"], event_ids(d["set"])) for d in squat["e1rm_series"]] == [
        (126.67, [f"{s1}:2", f"{s1}:3"]), (124.67, [f"{s2}:2"])]
    assert [(r["record"], event_ids(r["set"])) for r in now["records"]] == [
        ("heaviest_kg", [f"{s2}:2"])]
    view = ok(client.get(f"/athletes/{athlete_id}/views/strength", headers=me))
    assert view["exercises"][0]["best_e1rm_kg"] == squat["best_e1rm_kg"]

    # as of before the correction: B made the best e1RM, and a record of it
    then = explain(as_of=before_amend)
    squat = then["exercises"][0]
    assert squat["best_e1rm_kg"] == 124.67
    assert event_ids(squat["best_e1rm_set"]) == [f"{s2}:2"]
    assert squat["best_e1rm_set"]["set_id"] == b
    assert [(r["record"], event_ids(r["set"])) for r in then["records"]] == [
        ("heaviest_kg", [f"{s2}:2"]), ("e1rm_kg", [f"{s2}:2"])]
    assert then["recorded_by"] == before_amend


def test_explain_readiness_names_the_inputs_of_each_criterion(client: TestClient,
                                                               demo: str) -> None:
    explained = ok(client.get(f"/athletes/{demo}/views/readiness/explain", headers=ADMIN))
    view = ok(client.get(f"/athletes/{demo}/views/readiness", headers=ADMIN))
    assert explained["verdict"] == view["verdict"]
    assert [c["name"] for c in explained["criteria"]] == [c["name"] for c in view["criteria"]]
    assert [c["value"] for c in explained["criteria"]] == [c["value"] for c in view["criteria"]]
    by_name = {c["name"]: c["inputs"] for c in explained["criteria"]}
    sessions, observations = explained["sessions"], explained["observations"]

    weeks = by_name["training_adherence_3w"]["weeks"]
    assert len(weeks) == 3
    for week in weeks:
        assert explained["plans"][week["plan_id"]]["events"][0] == f"{week['plan_id']}:1"
        for slot in week["training_slots"]:
            if slot["session_id"]:
                assert slot["session_id"] in sessions
    counted = sum(s["counted_as_done"] for w in weeks for s in w["training_slots"])
    planned = sum(len(w["training_slots"]) for w in weeks)
    assert round(100 * counted / planned, 1) == view["criteria"][0]["value"]

    acwr = by_name["acwr"]
    assert len(acwr["days"]) == 28
    fatigue = ok(client.get(f"/athletes/{demo}/views/fatigue", headers=ADMIN))
    assert [(d["day"], d["load"]) for d in acwr["days"]] == [
        (r["day"], r["load"]) for r in fatigue["series"][-28:]]
    for d in acwr["days"]:
        assert round(sum(sessions[i]["load"] for i in d["sessions"]), 2) == d["load"]

    markers = by_name["recovery"]["markers"]
    assert set(markers) == {"resting_hr", "ln_rmssd"}
    recovery = ok(client.get(f"/athletes/{demo}/views/recovery", headers=ADMIN))
    for name, marker in markers.items():
        start, end = marker["window"]
        assert {observations[i]["day"] for i in marker["window_observations"]} == {
            p["day"] for p in recovery["markers"][name]["series"] if start <= p["day"] <= end}
        assert marker["status"] == recovery["markers"][name]["status"]
    assert markers["resting_hr"]["baseline_observations"]
    for ids in (markers["resting_hr"]["window_observations"],
                markers["ln_rmssd"]["baseline_observations"]):
        for obs_id in ids:
            assert observations[obs_id]["events"][0] == f"{obs_id}:1"

    trend = by_name["session_rpe_trend"]
    assert trend["last_week"]["sessions"]
    assert all(sessions[i]["classification"] == "training" for i in trend["last_week"]["sessions"])

    # every event named is in the athlete's audit trail
    trail = {e["event_id"] for e in all_pages(client, demo, ADMIN, limit=1000)}
    named = {i for s in sessions.values() for i in s["events"]} | {
        i for o in observations.values() for i in o["events"]} | {
        i for p in explained["plans"].values() for i in p["events"]}
    assert named
    assert named <= trail


# ------------------------------------------------------------------ exports


def test_events_export_is_json_lines_without_secrets(client: TestClient,
                                                     runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, "Secretive")
    spare = ok(client.post(f"/athletes/{athlete_id}/tokens", json={"label": "phone"},
                           headers=bearer(token)))
    me = bearer(spare["token"], **{"Idempotency-Key": "start-1"})
    ok(client.post(f"/athletes/{athlete_id}/sessions", headers=me, json={
        "started_at": ago(hours=3), "notes": f"pasted by mistake: {token}",
        "sets": [{"exercise_id": SQUAT, "reps": 5, "load": 80}]}))
    r = client.get(f"/athletes/{athlete_id}/export/events.jsonl", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/jsonl"
    assert "events.jsonl" in r.headers["content-disposition"]
    lines = r.text.splitlines()
    exported = [json.loads(line) for line in lines]
    assert exported == all_pages(client, athlete_id, bearer(token), limit=1000)
    assert types(exported) == ["Registered", "Started", "SetLogged"]
    assert exported[1]["payload"]["notes"] == "pasted by mistake: [redacted]"
    token_ids = [t.token_id for t in runtime.tokens.list_for(athlete_id)]
    assert len(token_ids) == 2
    secrets = [token, spare["token"], token[4:], spare["token"][4:], *token_ids]
    for line in lines:
        assert not any(s in line for s in secrets)
        assert not TOKEN_RE.search(line)
        assert "token_id" not in line
        assert "fingerprint" not in line
    # the stored event does hold the token id: the export left it out on purpose
    started = next(iter(runtime.app.events.get(UUID(exported[1]["aggregate_id"]))))
    assert started.source["token_id"] == spare["token_id"]

    filtered = client.get(f"/athletes/{athlete_id}/export/events.jsonl",
                          params={"type": "SetLogged"}, headers=bearer(token))
    assert [json.loads(x)["type"] for x in filtered.text.splitlines()] == ["SetLogged"]


def read_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


@pytest.mark.parametrize("name", list(VIEWS))
def test_each_view_exports_its_main_table_as_csv(client: TestClient, demo: str,
                                                 name: str) -> None:
    r = client.get(f"/athletes/{demo}/export/{name}.csv", headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert f"{name}.csv" in r.headers["content-disposition"]
    header, rows = read_csv(r.text)
    assert header[: len(TABLES[name][1])] == list(TABLES[name][1])
    assert len(header) == len(set(header))
    view = ok(client.get(f"/athletes/{demo}/views/{name}", headers=ADMIN))
    main_table = TABLES[name][0](view)
    assert len(rows) == len(main_table) > 0
    first = main_table[0]
    for column in header:
        if "." in column or isinstance(first.get(column), list | dict) or column not in first:
            continue
        value = first[column]
        shown = "" if value is None else ("true" if value is True else "false"
                                          if value is False else str(value))
        assert rows[0][column] == shown, column


def test_a_view_csv_of_an_athlete_without_data_is_a_header(client: TestClient) -> None:
    athlete_id, token = new_athlete(client, "Newcomer")
    r = client.get(f"/athletes/{athlete_id}/export/strength.csv", headers=bearer(token))
    assert r.status_code == 200
    assert r.text.strip() == ",".join(TABLES["strength"][1])


# ------------------------------------------------------------------ the CLI


def test_cli_exports_the_demo(settings: Settings, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    rt = open_runtime(settings)
    try:
        athlete_id = seed_demo(rt.app).athlete_id
        rt.feed.catch_up_all()
    finally:
        rt.close()
    monkeypatch.delenv("TRAINLEDGER_DATABASE_URL", raising=False)
    if settings.database_url:
        monkeypatch.setenv("TRAINLEDGER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRAINLEDGER_ADMIN_TOKEN", settings.admin_token or "x")
    out = tmp_path / "out"
    data_dir = ["--data-dir", str(settings.data_dir)]

    # in a shell: a progress line on the terminal, one step per file
    printed = run_on_terminal(settings, "export", "--out", str(out))  # single athlete
    assert printed.returncode == 0, printed.stderr
    shown = printed.stderr.replace("\r\n", "\n")
    steps = re.findall(r"\rexporting \[(\d)/8\] (\S+) \(\d+ (?:events|rows)\)", shown)
    assert steps == [(str(i), name) for i, name in enumerate(
        ["events.jsonl", *(f"{v}.csv" for v in VIEWS)], start=1)]
    assert shown.endswith("\n")
    assert f"views of athlete {athlete_id}" in printed.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["events.jsonl", *(f"{v}.csv" for v in VIEWS)])
    lines = (out / "events.jsonl").read_text().splitlines()
    assert f"exported {len(lines)} events and 7 views" in printed.stdout
    # into a pipe: no progress, the same files
    piped = run_cli(settings, "export", "--out", str(tmp_path / "piped"))
    assert piped.returncode == 0, piped.stderr
    assert "exporting" not in piped.stderr
    assert piped.stdout.replace("piped", "out") == printed.stdout
    assert all((tmp_path / "piped" / p.name).read_bytes() == p.read_bytes()
               for p in out.iterdir())
    exported = [json.loads(line) for line in lines]
    assert exported[0]["type"] in ("Registered", "Planned")
    assert {e["aggregate_kind"] for e in exported} == {
        "athlete", "session", "goal", "plan", "observation"}
    recorded = [e["recorded_at"] for e in exported]
    assert recorded == sorted(recorded)
    assert len({e["event_id"] for e in exported}) == len(exported)
    for v in VIEWS:
        header, rows = read_csv((out / f"{v}.csv").read_text())
        assert header[: len(TABLES[v][1])] == list(TABLES[v][1]), v
        assert rows, v

    some = tmp_path / "some"
    assert main([*data_dir, "export", "--athlete", athlete_id, "--out", str(some),
                 "--views", "fatigue", "readiness"]) == 0
    assert sorted(p.name for p in some.iterdir()) == [
        "events.jsonl", "fatigue.csv", "readiness.csv"]
    capsys.readouterr()

    assert main([*data_dir, "export", "--athlete", "nobody", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("trainledger: no athlete 'nobody' here (an id, a unique start of "
                           "one, or the exact name; `trainledger athletes list` shows them)")
    assert not (tmp_path / "x").exists()
    with pytest.raises(SystemExit) as exited:
        main([*data_dir, "export", "--views", "mood"])
    assert exited.value.code == 2
    assert "invalid choice: 'mood'" in capsys.readouterr().err
