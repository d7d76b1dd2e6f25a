"""The daily check-in: several observations in one call, all recorded or none."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from support_views import Athlete

from services.runtime import Runtime


def check_in(a: Athlete, *values: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    return a.post(f"/athletes/{a.id}/check-ins", {
        "observed_at": a.at(a.today(), 7).isoformat(), "values": list(values),
        "note": "slept badly"}, key)


def test_a_check_in_records_each_value_in_the_athletes_unit(client: TestClient) -> None:
    a = Athlete(client, mass_unit="lb")
    made = check_in(a, {"metric": "sleep_hours", "value": 6.5, "unit": "h"},
                    {"metric": "deep_work_hours", "value": 3, "unit": "h"},
                    {"metric": "body_mass", "value": 176.4, "unit": "lb"},
                    {"metric": "resting_hr", "value": 52, "unit": "bpm"},
                    {"metric": "hrv_rmssd", "value": 61, "unit": "ms"}, key="morning")
    got = {o["metric"]: o for o in made["observations"]}
    assert set(got) == {"sleep_hours", "deep_work_hours", "body_mass", "resting_hr",
                        "hrv_rmssd"}
    assert all(o["note"] == "slept badly" for o in got.values())
    listed = a.post(f"/athletes/{a.id}/observations", {}, method="GET")
    assert len(listed) == 5
    again = check_in(a, {"metric": "sleep_hours", "value": 6.5, "unit": "h"},
                     {"metric": "deep_work_hours", "value": 3, "unit": "h"},
                     {"metric": "body_mass", "value": 176.4, "unit": "lb"},
                     {"metric": "resting_hr", "value": 52, "unit": "bpm"},
                     {"metric": "hrv_rmssd", "value": 61, "unit": "ms"}, key="morning")
    assert again == made  # a retry records nothing new
    assert len(a.post(f"/athletes/{a.id}/observations", {}, method="GET")) == 5


def test_a_check_in_with_one_bad_value_records_nothing(client: TestClient,
                                                       runtime: Runtime) -> None:
    a = Athlete(client)
    before = runtime.app.recorder.max_notification_id()
    for values, field in (
            ([{"metric": "sleep_hours", "value": 7, "unit": "h"},
              {"metric": "5k_time_min", "value": 24, "unit": "min"}], "values[1].metric"),
            ([{"metric": "resting_hr", "value": 52, "unit": "h"}], "values[0].unit"),
            ([{"metric": "sleep_hours", "value": 7, "unit": "h"}] * 2, "values")):
        r = client.post(f"/athletes/{a.id}/check-ins", json={
            "observed_at": a.at(a.today(), 7).isoformat(), "values": values}, headers=a.me)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == field
    assert runtime.app.recorder.max_notification_id() == before
