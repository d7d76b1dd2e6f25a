"""Prescriptions on planned sessions and workouts to the watch (issue 13, item 2), on both
stores: the prescription through the plan API, each slot as a FIT workout file read back by
fitdecode and fitparse, the week as a zip and through ``trainledger workouts``, and an
exported workout imported again recognised as its slot."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from conftest import ADMIN, new_athlete
from fastapi.testclient import TestClient
from fit_fixtures import by_name
from support_cli import run_cli
from support_slots import ok, served
from support_views import Athlete
from support_workouts import prescription_of, read_workout

from services.api.app import create_app
from services.config import Settings
from services.domain.plan import slot_serial
from services.runtime import Runtime, open_runtime

SQUAT, BENCH = "squat.back_squats", "bench_press.barbell_bench_press"
STRENGTH = [
    {"kind": "strength", "exercise_id": SQUAT, "sets": 5, "reps": 5, "load": 225,
     "rest_s": 180},
    {"kind": "strength", "exercise_id": BENCH, "sets": 3, "reps": 8, "load": 135},
    {"kind": "endurance", "duration_s": 600, "intensity": "cooldown", "name": "Easy spin",
     "target": {"type": "heart_rate", "low": 110, "high": 130}},
]
RUN = [
    {"kind": "endurance", "duration_s": 900, "intensity": "warmup"},
    {"kind": "endurance", "distance_m": 5000, "target": {"type": "pace", "low": 270,
                                                          "high": 300}},
    {"kind": "endurance", "duration_s": 300, "target": {"type": "power", "low": 200,
                                                         "high": 250}},
]


def prescribe(a: Athlete, week: date, slot: str, steps: list[dict[str, Any]]) -> Any:
    return a.client.put(f"/athletes/{a.id}/plans/{week}/sessions/{slot}/prescription",
                        json={"steps": steps}, headers=a.me)


def planned(client: TestClient, **profile: Any) -> tuple[Athlete, date, list[str]]:
    """An athlete with the default week planned next week; the slots' ids."""
    a = Athlete(client, **profile)
    week = a.week(1)
    plan = a.plan(week)
    return a, week, [s["planned_session_id"] for s in plan["sessions"]]


def stored(step: dict[str, Any]) -> dict[str, Any]:
    """A step as the plan keeps it: load in kg (entered in lb), the default intensity."""
    out = {k: v for k, v in step.items() if k not in ("load", "load_unit")}
    if "load" in step:
        out["load_kg"] = round(step["load"] * 0.45359237, 2)
    if step["kind"] == "endurance":
        out.setdefault("intensity", "active")
        if "distance_m" in out:
            out["distance_m"] = float(out["distance_m"])
    return out


def test_a_prescription_is_set_through_the_plan_api(client: TestClient) -> None:
    a, week, slots = planned(client, mass_unit="lb")
    answer = ok(prescribe(a, week, slots[0], STRENGTH))
    slot = answer["sessions"][0]
    assert slot["prescription"] == [stored(s) for s in STRENGTH]
    assert slot["prescription"][0]["load_kg"] == 102.06  # 225 lb
    assert "prescription" not in answer["sessions"][1]
    shown = ok(client.get(f"/athletes/{a.id}/plans/{week}", headers=a.me))
    assert shown["sessions"][0]["prescription"] == slot["prescription"]
    kg = ok(prescribe(a, week, slots[1], [{**STRENGTH[0], "load": 100, "load_unit": "kg"}]))
    assert kg["sessions"][1]["prescription"][0]["load_kg"] == 100

    history = ok(client.get(f"/athletes/{a.id}/plans/{week}/history", headers=a.me))
    assert [e["type"] for e in history][-2:] == ["SlotPrescribed", "SlotPrescribed"]
    assert history[-2]["payload"]["steps"] == slot["prescription"]
    again = ok(prescribe(a, week, slots[0], STRENGTH))  # the same steps: nothing new
    assert again["version"] == kg["version"]
    cleared = ok(prescribe(a, week, slots[0], []))
    assert "prescription" not in cleared["sessions"][0]
    repeated = a.post(f"/athletes/{a.id}/plans", {"week_start": a.week(2).isoformat(),
                                                   "repeat_from": week.isoformat()})
    assert [s.get("prescription") for s in repeated["sessions"]] == [
        s.get("prescription") for s in cleared["sessions"]]


def test_bad_steps_are_refused_naming_the_field(client: TestClient,
                                                runtime: Runtime) -> None:
    a, week, slots = planned(client)
    squat = STRENGTH[0]
    bad: list[tuple[list[dict[str, Any]], str]] = [
        ([{**squat, "sets": 0}], "steps[0].sets"),
        ([RUN[0], {**squat, "reps": 2.5}], "reps"),
        ([{**squat, "exercise_id": "squat.no_such_squat"}], "steps[0].exercise_id"),
        ([{**squat, "exercise_id": "unknown"}], "steps[0].exercise_id"),
        ([{**squat, "load": -5}], "steps[0].load_kg"),
        ([{**squat, "load": 100, "load_unit": "stone"}], "load_unit"),
        ([{**squat, "rest_s": 99999}], "steps[0].rest_s"),
        ([{"kind": "endurance"}], "steps[0]"),
        ([{"kind": "endurance", "duration_s": 60, "distance_m": 400}], "steps[0]"),
        ([{"kind": "endurance", "duration_s": 60,
           "target": {"type": "heart_rate", "low": 160, "high": 140}}], "steps[0].target"),
        ([{"kind": "endurance", "duration_s": 60,
           "target": {"type": "speed", "low": 1, "high": 2}}], "type"),
        ([{"kind": "endurance", "duration_s": 60,
           "target": {"type": "power", "low": 0, "high": 200}}], "steps[0].target.low"),
        ([{"kind": "swim", "duration_s": 60}], "steps[0]"),
        ([{**squat, "colour": "red"}], "colour"),
        ([RUN[0]] * 51, "steps"),
    ]
    before = runtime.app.recorder.max_notification_id()
    for steps, field in bad:
        r = prescribe(a, week, slots[0], steps)
        assert r.status_code == 422, (steps, r.text)
        fields = [e["field"] or "" for e in r.json()["errors"]]
        assert any(field in f for f in fields), (field, r.json())
    assert runtime.app.recorder.max_notification_id() == before
    r = prescribe(a, week, "no-such-slot", RUN)
    assert r.status_code == 404, r.text


def test_a_prescription_comes_in_the_plan_body_and_the_week_template(
        client: TestClient, runtime: Runtime) -> None:
    """``POST /plans`` and ``PUT /week-template`` take each slot's ``prescription``, checked
    as the PUT checks it; the plan records it as the PUT does (``SlotPrescribed``)."""
    a = Athlete(client, mass_unit="lb")
    week = a.week(1)
    plan = a.post(f"/athletes/{a.id}/plans", {"week_start": week.isoformat(), "sessions": [
        {"role": "training", "day": week.isoformat(), "prescription": STRENGTH},
        {"role": "volume", "title": "Run", "prescription": RUN},
        {"role": "volume"}]})
    assert [s.get("prescription") for s in plan["sessions"]] == [
        [stored(s) for s in STRENGTH], [stored(s) for s in RUN], None]
    history = ok(client.get(f"/athletes/{a.id}/plans/{week}/history", headers=a.me))
    assert [e["type"] for e in history] == ["Planned", "SlotPrescribed", "SlotPrescribed"]
    assert all("prescription" not in s for s in history[0]["payload"]["sessions"])
    added = a.post(f"/athletes/{a.id}/plans/{week}/sessions",
                   {"role": "volume", "prescription": RUN[:1]})
    assert added["sessions"][-1]["prescription"] == [stored(RUN[0])]

    before = runtime.app.recorder.max_notification_id()
    bad = [({"role": "volume", "prescription": [{**STRENGTH[0], "sets": 0}]},
            "sessions[1].prescription[0].sets"),
           ({"role": "volume", "prescription": [RUN[0], {"kind": "endurance"}]},
            "sessions[1].prescription[1]"),
           ({"role": "volume", "prescription": [{**STRENGTH[0], "exercise_id": "nope"}]},
            "sessions[1].prescription[0].exercise_id")]
    for slot, field in bad:
        r = client.post(f"/athletes/{a.id}/plans", headers=a.me, json={
            "week_start": a.week(2).isoformat(), "sessions": [{"role": "volume"}, slot]})
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field], r.json()
        r = client.put(f"/athletes/{a.id}/week-template", headers=a.me,
                       json={"sessions": [{"role": "volume", "day": 1}, {**slot, "day": 2}]})
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field], r.json()
    r = client.post(f"/athletes/{a.id}/plans/{week}/sessions", headers=a.me,
                    json={"role": "volume", "prescription": [{**RUN[0], "duration_s": 0}]})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "session.prescription[0].duration_s"
    assert runtime.app.recorder.max_notification_id() == before

    template = a.post(f"/athletes/{a.id}/week-template", {"sessions": [
        {"role": "training", "day": 1, "prescription": STRENGTH},
        {"role": "volume", "day": 6}]}, method="PUT")
    assert template["sessions"][0]["prescription"] == [stored(s) for s in STRENGTH]
    for offset in (2, 3):  # each week planned from the template gets a copy
        made = a.plan(a.week(offset))
        assert [s.get("prescription") for s in made["sessions"]] == [
            [stored(s) for s in STRENGTH], None]
        history = ok(client.get(f"/athletes/{a.id}/plans/{a.week(offset)}/history",
                                headers=a.me))
        assert [e["type"] for e in history] == ["Planned", "SlotPrescribed"]


def test_a_template_read_back_can_be_sent_back(client: TestClient) -> None:
    """A template (or plan) answers a strength step's load as ``load_kg``; sent back as it
    came (read, change, write), it is taken as it is, and ``load`` with ``load_kg`` is a 422
    naming the field."""
    a = Athlete(client, mass_unit="lb")
    a.post(f"/athletes/{a.id}/week-template", {"sessions": [
        {"role": "training", "day": 1, "prescription": STRENGTH}]}, method="PUT")
    read = ok(client.get(f"/athletes/{a.id}/week-template", headers=a.me))
    sessions = [{k: v for k, v in s.items() if k in ("role", "day", "prescription")}
                for s in read["sessions"]]
    sessions.append({"role": "volume", "day": 6})
    again = a.post(f"/athletes/{a.id}/week-template", {"sessions": sessions}, method="PUT")
    assert again["sessions"][0]["prescription"] == [stored(s) for s in STRENGTH]
    r = client.put(f"/athletes/{a.id}/week-template", headers=a.me, json={"sessions": [
        {"role": "training", "day": 1,
         "prescription": [{**STRENGTH[0], "load_kg": 100}]}]})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["sessions[0].prescription[0].load_kg"]


def test_every_planned_slot_exports_as_a_workout_file(client: TestClient) -> None:
    a, week, slots = planned(client, mass_unit="lb")
    ok(prescribe(a, week, slots[0], STRENGTH))
    ok(client.patch(f"/athletes/{a.id}/plans/{week}/sessions/{slots[1]}",
                    json={"sport": "running", "title": "Tempo run"}, headers=a.me))
    ok(prescribe(a, week, slots[1], RUN))
    ok(client.post(f"/athletes/{a.id}/plans/{week}/sessions/{slots[2]}/cancel", json={},
                   headers=a.me))
    r = client.get(f"/athletes/{a.id}/plans/{week}/workouts.zip", headers=a.me)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    files = zipfile.ZipFile(io.BytesIO(r.content))
    names = files.namelist()
    assert len(names) == 3  # the cancelled slot is left out
    assert names[0] == f"{week}-1-training-session.fit"
    assert names[1] == f"{week + timedelta(days=2)}-2-tempo-run.fit"

    file_id, workout, steps = read_workout(files.read(names[0]))
    assert file_id["manufacturer"] == "development"
    assert file_id["product_name"] == "trainledger"
    assert file_id["serial_number"] == slot_serial(slots[0])
    assert (workout["sport"], workout["sub_sport"]) == ("training", "strength_training")
    assert workout["wkt_name"] == "Training session"
    assert prescription_of(steps) == [stored(s) for s in STRENGTH]
    assert [s.get("wkt_step_name") for s in steps[:3]] == ["Back squats", "Rest", None]
    assert steps[0]["weight_display_unit"] == "pound"
    assert steps[0]["exercise_category"] == "squat"
    assert steps[3]["duration_type"] == "reps"
    assert steps[4]["duration_type"] == "open"  # no rest given: until the athlete goes on

    _, workout, steps = read_workout(files.read(names[1]))
    assert (workout["sport"], workout["wkt_name"]) == ("running", "Tempo run")
    assert prescription_of(steps) == [stored(s) for s in RUN]

    _, workout, steps = read_workout(files.read(names[2]))  # no prescription
    assert (workout["sport"], workout["wkt_name"]) == ("generic", "Volume session")
    assert steps == [{"message_index": 0, "wkt_step_name": "Volume session",
                      "duration_type": "open", "target_type": "open", "intensity": "active"}]

    again = client.get(f"/athletes/{a.id}/plans/{week}/workouts.zip", headers=a.me)
    assert again.content == r.content  # the same plan, the same bytes
    other, _ = new_athlete(client, "Other")
    r = client.get(f"/athletes/{other}/plans/{week}/workouts.zip", headers=ADMIN)
    assert r.status_code == 404, r.text  # no plan that week


def test_a_custom_exercise_is_named_without_a_fit_category(client: TestClient) -> None:
    a, week, slots = planned(client)
    custom = a.post(f"/athletes/{a.id}/exercises", {"name": "Sled push", "category": "squat"})
    ok(prescribe(a, week, slots[0], [{"kind": "strength", "exercise_id": custom["id"],
                                      "sets": 4, "reps": 10}]))
    r = client.get(f"/athletes/{a.id}/plans/{week}/workouts.zip", headers=a.me)
    files = zipfile.ZipFile(io.BytesIO(r.content))
    _, _, steps = read_workout(files.read(files.namelist()[0]))
    assert steps[0]["wkt_step_name"] == "Sled push"
    assert "exercise_category" not in steps[0]
    assert steps[2]["repeat_steps"] == 4


def test_an_exported_workout_imported_again_is_its_slot(runtime: Runtime) -> None:
    with served(runtime) as client:
        a, week, slots = planned(client)
        ok(prescribe(a, week, slots[0], STRENGTH))
        r = client.get(f"/athletes/{a.id}/plans/{week}/workouts.zip", headers=a.me)
        files = zipfile.ZipFile(io.BytesIO(r.content))
        before = ok(client.get(f"/athletes/{a.id}/plans/{week}", headers=a.me))
        for index, name in enumerate(files.namelist()[:2]):
            (answer,) = ok(client.post(
                f"/athletes/{a.id}/imports/fit", params={"wait": 20}, headers=a.me,
                files=[("files", (name, files.read(name)))]), 202)
            assert answer["status"] == "duplicate", answer
            assert answer["reason"] == (f"the workout of planned session {slots[index]} "
                                        "(exported by trainledger)")
            assert answer["request"]["result"]["planned_session_ids"] == [slots[index]]
        after = ok(client.get(f"/athletes/{a.id}/plans/{week}", headers=a.me))
        assert after == before  # no slot added, nothing changed
        sessions = ok(client.get(f"/athletes/{a.id}/sessions", headers=a.me))
        assert sessions == []  # not a session either

        # another athlete's import of the same file is a workout of their own
        b, _, _ = planned(client)
        (theirs,) = ok(client.post(
            f"/athletes/{b.id}/imports/fit", params={"wait": 20}, headers=b.me,
            files=[("files", ("shared.fit", files.read(files.namelist()[0])))]), 202)
        assert theirs["status"] == "imported", theirs
        # a device workout (not ours) is still added as a planned session
        (device,) = ok(client.post(
            f"/athletes/{a.id}/imports/fit", params={"wait": 20}, headers=a.me,
            files=[("files", ("device.fit", by_name("workout").data))]), 202)
        assert device["status"] == "imported", device


def test_the_cli_writes_a_week_of_workout_files(settings: Settings, tmp_path: Path) -> None:
    rt = open_runtime(settings)
    try:
        with TestClient(create_app(rt), raise_server_exceptions=False) as client:
            a, week, slots = planned(client, mass_unit="lb")
            ok(prescribe(a, week, slots[0], STRENGTH))
    finally:
        rt.close()
    out = tmp_path / "watch"
    done = run_cli(settings, "workouts", week.isoformat(), "--out", str(out))
    assert done.returncode == 0, done.stderr
    written = sorted(out.iterdir())
    assert len(written) == 4, written
    assert f"4 workout files for the week of {week}" in done.stdout
    _, _, steps = read_workout(written[0].read_bytes())
    assert prescription_of(steps) == [stored(s) for s in STRENGTH]
    assert oct(written[0].stat().st_mode & 0o777) == "0o600"

    again = run_cli(settings, "import", str(out), "--json")  # back from the watch's folder
    assert again.returncode == 0, again.stderr
    answers = json.loads(again.stdout)
    assert [r["status"] for r in answers] == ["duplicate"] * 4, answers
    assert sorted(r["planned_session_ids"][0] for r in answers) == sorted(slots)

    missing = run_cli(settings, "workouts", "2020-01-06", "--out", str(out))
    assert missing.returncode == 2
    assert "no plan for the week of 2020-01-06" in missing.stderr
    bad = run_cli(settings, "workouts", "next-week", "--out", str(out))
    assert bad.returncode == 2
    assert "is not a date" in bad.stderr
    assert "Traceback" not in missing.stderr + bad.stderr
