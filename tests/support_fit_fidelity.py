"""Helpers for the import-fidelity tests: upload one corpus file through the API and read
back what it made."""

from __future__ import annotations

from typing import Any

from conftest import bearer
from fastapi.testclient import TestClient
from fit_samples import corpus_dir

EDGE_RIDE = "FITfileR/garmin-edge530-ride.fit"  # 143.5 min timer, 158.8 min elapsed
COROS_RUN = "sports-lib/OutdoorRun20200314145229.fit"  # file_id.product_name "COROS APEX Pro"
MULTISPORT = "muktihari-fit/activity_multisport.fit"  # two legs with their own average HR
LONG_HRV = "GoldenCheetah/2017_hrv.FIT"  # 64 min of R-R intervals during exercise
SHORT_HRV = "garmin-fit-javascript-sdk/HrmPluginTestActivity.fit"  # 5 min, 106 beats
FILE_MAX_HR = "fit-analyzer/20548472357_ACTIVITY.fit"  # zones_target.max_heart_rate 196
NO_FILE_HR = "python-fitparse/activity-small-fenix2-run.fit"  # no user_profile, no zones
LAPS_RIDE = "python-fitparse/Edge810-Vector-2013-08-16-15-35-10.fit"  # 8 laps with power
STRENGTH = "fit-analyzer/20748058539_ACTIVITY.fit"  # 14 sets, every one unidentified


def upload(client: TestClient, athlete_id: str, token: str, path: str) -> dict[str, Any]:
    """Upload one corpus file and wait for its result (the intake's answer)."""
    r = client.post(f"/athletes/{athlete_id}/imports/fit", params={"wait": 30},
                    files=[("files", (path.rsplit("/", 1)[-1], (corpus_dir() / path)
                                      .read_bytes()))], headers=bearer(token))
    assert r.status_code == 202, r.text
    answer = r.json()[0]
    assert answer["status"] == "imported", answer
    result: dict[str, Any] = answer["request"]["result"]
    return result


def session(client: TestClient, token: str, session_id: str) -> dict[str, Any]:
    r = client.get(f"/sessions/{session_id}", headers=bearer(token))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def load_row(client: TestClient, athlete_id: str, token: str,
             session_id: str) -> dict[str, Any]:
    """The session's row in the load view."""
    r = client.get(f"/athletes/{athlete_id}/views/load", headers=bearer(token))
    assert r.status_code == 200, r.text
    row: dict[str, Any] = next(x for x in r.json()["sessions"] if x["session_id"] == session_id)
    return row
