"""Power from a device file, on both stores, with the ``stryd`` fixture (a run with Stryd's
developer fields: Power, Form Power, Leg Spring Stiffness on records, CP 290 W on the
session): the developer fields are kept, Normalized Power is on the session, and the load
that feeds fatigue takes sRPE first, then power (TSS against the profile's FTP on the
session's day, else the file's CP), then TRIMP, with ``load_source`` saying which.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
from conftest import bearer, new_athlete
from fastapi.testclient import TestClient
from fit_fixtures import STRYD_FIELDS, by_name
from support_cli import run_cli

from ingest.fit.importer import FitResult, import_fit
from projections.science.load import normalized_power
from services.config import Settings
from services.domain.athlete import Athlete
from services.domain.base import Context, Source
from services.domain.errors import InvalidValue
from services.runtime import Runtime, open_runtime

SOURCE = Source("admin", principal_id="cli")
STRYD = by_name("stryd")


def stryd_watts_per_second() -> list[float]:
    """The fixture's power, as written: 200 records 5 s apart, each held until the next."""
    watts = [265 + round(20 * math.sin(i / 15)) for i in range(200)]
    return [float(w) for w in watts[:-1] for _ in range(5)]


def test_laps_take_their_power_from_the_records_when_the_lap_has_none(
        client: TestClient, runtime: Runtime) -> None:
    """Stryd's power is a developer field of the records, not in the lap messages: each
    lap's average (each record held until the next) and maximum come from its records."""
    athlete_id, token = new_athlete(client)
    session_id = imported(runtime, athlete_id).session_ids[0]
    r = client.get(f"/sessions/{session_id}/laps", headers=bearer(token))
    assert r.status_code == 200, r.text
    watts = [265 + round(20 * math.sin(i / 15)) for i in range(200)]
    laps = r.json()
    assert len(laps) == 2
    for lap, mine in zip(laps, (watts[:100], watts[100:]), strict=True):
        assert lap["avg_power_w"] == pytest.approx(sum(mine[:-1]) / 99, abs=0.001)
        assert lap["max_power_w"] == max(mine)
        assert lap["timer_s"] == 495
        assert lap["power_from"] == "developer:Power"


def tss_of(client: TestClient, token: str, session_id: str) -> tuple[Any, Any]:
    """(power_tss, power_tss_from) of the session in the session API, alone and listed."""
    r = client.get(f"/sessions/{session_id}", headers=bearer(token))
    assert r.status_code == 200, r.text
    one = r.json()
    r = client.get(f"/athletes/{one['athlete_id']}/sessions", headers=bearer(token))
    listed = next(x for x in r.json() if x["session_id"] == session_id)
    assert (listed["power_tss"], listed["power_tss_from"]) == (
        one["power_tss"], one["power_tss_from"])
    return one["power_tss"], one["power_tss_from"]


def test_trainledger_sessions_shows_tss(settings: Settings) -> None:
    rt = open_runtime(settings)
    try:
        athlete_id = str(rt.app.register_athlete(Context(SOURCE), {"name": "Rider"}).id)
        session_id = imported(rt, athlete_id).session_ids[0]
        tss = (rt.app.session(session_id).device or {})["power"]
    finally:
        rt.close()
    done = run_cli(settings, "sessions")
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()
    assert header.split() == ["id", "date", "sport", "duration", "TSS", "status", "title"]
    minutes = 995 / 60
    assert row.split()[6] == f"{minutes / 60 * (tss['np_w'] / 290) ** 2 * 100:.0f}"


def imported(rt: Runtime, athlete_id: str) -> FitResult:
    return import_fit(rt.app, rt.artifacts, SOURCE, athlete_id, STRYD.data, STRYD.filename)


def load_row(client: TestClient, athlete_id: str, token: str,
             session_id: str) -> dict[str, Any]:
    r = client.get(f"/athletes/{athlete_id}/views/load", headers=bearer(token))
    assert r.status_code == 200, r.text
    row: dict[str, Any] = next(x for x in r.json()["sessions"] if x["session_id"] == session_id)
    return row


def test_developer_fields_and_normalized_power_are_kept(client: TestClient,
                                                         runtime: Runtime) -> None:
    athlete_id, _ = new_athlete(client)
    result = imported(runtime, athlete_id)
    device = runtime.app.session(result.session_ids[0]).device or {}
    developer = device["developer"]
    assert developer["session"] == {"CP": 290}
    assert set(developer["record"]) == {name for _, name, _, _, native in STRYD_FIELDS
                                        if native == 20}
    assert developer["record"]["Power"]["max"] == 285
    power = device["power"]
    assert power["from"] == "developer:Power"
    assert power["cp_w"] == 290
    assert power["cp_from"] == "developer:CP"
    assert power["seconds"] == 995
    expected = normalized_power(stryd_watts_per_second())
    assert expected is not None
    assert power["np_w"] == pytest.approx(expected, abs=0.05)
    assert device["avg_power_w"] == pytest.approx(sum(stryd_watts_per_second()) / 995, abs=0.05)


def test_the_load_takes_srpe_then_power_then_trimp(client: TestClient,
                                                    runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, max_hr=190, resting_hr=50)
    result = imported(runtime, athlete_id)
    session_id = result.session_ids[0]
    assert any(n.startswith("load from power: TSS against the file's CP (290 W)")
               for n in result.notes), result.notes
    session = runtime.app.session(session_id)
    assert session.duration_min == pytest.approx(995 / 60, abs=0.01)
    minutes = 995 / 60  # timer time, as the views count it
    np_w = (session.device or {})["power"]["np_w"]
    # power before TRIMP (a max HR is in the profile): TSS = hours × (NP / CP)² × 100
    row = load_row(client, athlete_id, token, session_id)
    assert row["load_source"] == "power_tss (file CP)"
    assert row["load"] == pytest.approx(minutes / 60 * (np_w / 290) ** 2 * 100, abs=0.01)
    assert tss_of(client, token, session_id) == (row["load"], "file CP") == (
        row["power_tss"], "file CP")
    assert row["trimp_edwards"] > 0  # still computed, not what feeds fatigue
    # an FTP from after the session leaves it on the file's CP...
    me = bearer(token)
    started = session.started_at
    r = client.patch(f"/athletes/{athlete_id}/profile", headers=me, json={
        "ftp_w": 250, "effective_at": (started + timedelta(days=1)).isoformat()})
    assert r.status_code == 200, r.text
    row = load_row(client, athlete_id, token, session_id)
    assert row["load_source"] == "power_tss (file CP)"
    # ...one in effect on its day is the threshold
    r = client.patch(f"/athletes/{athlete_id}/profile", headers=me, json={
        "ftp_w": 260, "effective_at": (started - timedelta(days=1)).isoformat()})
    assert r.status_code == 200, r.text
    row = load_row(client, athlete_id, token, session_id)
    assert row["load_source"] == "power_tss"
    assert row["load"] == pytest.approx(minutes / 60 * (np_w / 260) ** 2 * 100, abs=0.01)
    # the athlete's rating comes first
    r = client.patch(f"/sessions/{session_id}", headers=me, json={"session_rpe": 6})
    assert r.status_code == 200, r.text
    row = load_row(client, athlete_id, token, session_id)
    assert row["load_source"] == "srpe"
    assert row["load"] == pytest.approx(6 * minutes, abs=0.01)
    tss = minutes / 60 * (np_w / 260) ** 2 * 100  # TSS stays a column of its own
    assert row["power_tss"] == pytest.approx(tss, abs=0.01)
    assert tss_of(client, token, session_id) == (row["power_tss"], "ftp_w")


def test_without_power_the_load_is_trimp(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, max_hr=190, ftp_w=250)
    run = by_name("run")
    result = import_fit(runtime.app, runtime.artifacts, SOURCE, athlete_id, run.data,
                        run.filename)
    assert "power" not in (runtime.app.session(result.session_ids[0]).device or {})
    row = load_row(client, athlete_id, token, result.session_ids[0])
    assert (row["load_source"], row["power_tss"]) == ("trimp_edwards", None)
    assert tss_of(client, token, result.session_ids[0]) == (None, None)


def test_ftp_is_checked(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    r = client.patch(f"/athletes/{athlete_id}/profile", headers=bearer(token),
                     json={"ftp_w": 5000})
    assert r.status_code == 422, r.text
    assert "ftp_w" in r.text


def refused_and_left_out(client: TestClient, runtime: Runtime, field: str, value: int,
                         message: str) -> tuple[str, str]:
    """A retired setting: the API and the domain refuse it naming it, and one an earlier
    version stored (beside ``atl_days``) is left out of the athlete's settings."""
    athlete_id, token = new_athlete(client, max_hr=190)
    r = client.patch(f"/athletes/{athlete_id}/settings", headers=bearer(token),
                     json={field: value})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    with pytest.raises(InvalidValue, match=message):
        runtime.app.change_settings(Context(SOURCE), athlete_id, {field: value})
    athlete = runtime.app.athlete(athlete_id)  # what an earlier version stored
    athlete._record(Athlete.SettingsChanged, Context(SOURCE),
                    changes={field: value, "atl_days": 9})
    runtime.app.save(athlete)
    shown = client.get(f"/athletes/{athlete_id}", headers=bearer(token)).json()["settings"]
    assert field not in shown
    assert shown["atl_days"] == 9
    return athlete_id, token


def test_one_ftp_the_profiles(client: TestClient, runtime: Runtime) -> None:
    """The settings' ``ftp_w`` is gone (it was never used), and the load takes the profile's
    FTP alone."""
    athlete_id, token = refused_and_left_out(client, runtime, "ftp_w", 150,
                                             "the profile's ftp_w")
    session_id = imported(runtime, athlete_id).session_ids[0]
    assert load_row(client, athlete_id, token, session_id)["load_source"] \
        == "power_tss (file CP)"  # not 150 W from the settings


def test_no_lthr_setting(client: TestClient, runtime: Runtime) -> None:
    """The settings' ``lthr`` was stored and never read."""
    refused_and_left_out(client, runtime, "lthr", 170, "lactate-threshold")
