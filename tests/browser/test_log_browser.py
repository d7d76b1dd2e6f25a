# ruff: noqa: F811  (the fixtures come from support_browser, by name)
"""The gym page `/log` in headless Chromium, at phone (375 px) and desktop (1280 px) width.

One flow per width, as a lifter goes: tap today's planned slot, find the lift by its gym
name, log sets (a PR among them), edit one, delete one, log one with the connection cut
(kept, shown as pending, sent with the same Idempotency-Key when it returns), end with the
real duration, read the summary.  Then the views: the session counts as training.  At
375 px: no horizontal scroll and every tap target at least 44 px.  Screenshots go to
``$TRAINLEDGER_SCREENSHOTS`` (default: the test's temporary directory).
"""

from __future__ import annotations

import json
import os
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from support_browser import (  # noqa: F401  (fixtures, by name)
    ON_STORES,
    OpenPage,
    assert_fits_a_phone,
    browser,
    open_page,
    service,
)

from bench.dashboard_screenshot import DemoService

RDL = "deadlift.romanian_deadlift"


def api(svc: DemoService, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, svc.url + path, timeout=10,
                             headers={"Authorization": f"Bearer {svc.admin_token}",
                                      **kwargs.pop("headers", {})}, **kwargs)
    assert response.status_code < 400, response.text
    return response.json()


def plan_today(svc: DemoService, title: str) -> tuple[str, str]:
    """A training slot today, for a new e1RM objective; returns (slot id, goal id)."""
    athlete = api(svc, "GET", f"/athletes/{svc.athlete_id}")
    profile = athlete["profile"]
    today = datetime.now(ZoneInfo(profile["timezone"])).date()
    first = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
             "sunday"].index(profile["first_day_of_week"])
    monday = today - timedelta(days=(today.weekday() - first) % 7)
    goal = api(svc, "POST", f"/athletes/{svc.athlete_id}/goals", json={
        "title": f"RDL 200 ({title})", "metric": {"kind": "e1rm", "exercise_id": RDL},
        "target_value": 200, "unit": "kg"})["goal_id"]
    slot = {"role": "training", "day": today.isoformat(), "title": title, "objective_id": goal}
    plans = f"/athletes/{svc.athlete_id}/plans"
    existing = httpx.get(f"{svc.url}{plans}/{monday}", timeout=10,
                         headers={"Authorization": f"Bearer {svc.admin_token}"})
    if existing.status_code == 404:
        plan = api(svc, "POST", plans, json={"week_start": monday.isoformat(),
                                             "sessions": [slot]})
    else:
        plan = api(svc, "POST", f"{plans}/{monday}/sessions", json=slot)
    slot_id = next(s["planned_session_id"] for s in plan["sessions"] if s["title"] == title)
    return slot_id, goal


def fits_a_phone(page: Any, width: int) -> None:
    if width <= 400:
        assert_fits_a_phone(page, width)


def choose(page: Any, query: str, name: str) -> None:
    """Search, press Enter, and wait until the pick has filled the form."""
    page.fill("#exercise-q", query)
    page.press("#exercise-q", "Enter")
    page.wait_for_function("() => document.getElementById('exercise-q').value === ''")
    assert page.inner_text("#exercise-chosen") == f"Exercise: {name}"


def log_set(page: Any, reps: int, load: float, rpe: float | None = None) -> None:
    page.fill("#reps", str(reps))
    page.fill("#load", f"{load:g}")
    page.fill("#rpe", "" if rpe is None else f"{rpe:g}")
    page.click("#log-set")


def wait_until(check: Any, what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@ON_STORES
def test_log_edit_delete_offline_then_end_from_a_planned_slot(
    open_page: OpenPage, service: DemoService, width: int, tmp_path: Path,
) -> None:
    shots = Path(os.environ.get("TRAINLEDGER_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    title = f"RDL focus {width}"
    slot_id, goal = plan_today(service, title)
    base = 100.0 if width == 375 else 140.0  # the second run's heavy set is a PR again
    options = {"has_touch": True, "is_mobile": True} if width < 400 else {}
    page = open_page("/log", service.athlete_token, width, 812 if width < 400 else 900,
                     allow="ERR_INTERNET_DISCONNECTED", **options)  # the offline part

    # the planned slot of today, started with a tap
    page.wait_for_selector(f"#plan-slots button[data-slot='{slot_id}']")
    assert title in page.inner_text(f"#plan-slots button[data-slot='{slot_id}']")
    fits_a_phone(page, width)
    page.screenshot(path=str(shots / f"log-pick-{width}.png"), full_page=True)
    page.click(f"#plan-slots button[data-slot='{slot_id}']")
    page.wait_for_selector("#active:not([hidden])")
    session_id = page.evaluate("() => window.trainledgerLog.active.session_id")
    session = api(service, "GET", f"/sessions/{session_id}")
    assert (session["planned_session_id"], session["objective_id"]) == (slot_id, goal)
    assert session["planned_role"] == "training"

    # "rdl" and Enter: the Romanian deadlift
    choose(page, "rdl", "Romanian deadlift")
    log_set(page, 5, base, 8)
    page.wait_for_selector("#sets li[data-set-id] >> nth=0")
    assert page.is_visible("#rest")  # the rest timer runs after each set
    log_set(page, 5, base + 10, 9)
    page.wait_for_function("() => document.querySelectorAll('#sets li[data-set-id]').length == 2")
    page.wait_for_selector("#toast:not([hidden]):has-text('New PR')", timeout=20_000)
    assert "Romanian deadlift" in page.inner_text("#toast")

    # edit the first set, delete the second
    page.click("#sets li[data-set-id] >> nth=0 >> button.edit")
    assert page.inner_text("#log-set") == "Save the set"
    page.fill("#reps", "6")
    page.click("#log-set")
    page.wait_for_selector(f"#sets li[data-set-id] >> nth=0 >> text=6 × {base:g} kg")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#sets li[data-set-id] >> nth=1 >> button.delete")
    page.wait_for_function("() => document.querySelectorAll('#sets li[data-set-id]').length == 1")
    sets = api(service, "GET", f"/sessions/{session_id}")["sets"]
    assert [(s["reps"], s["load_kg"]) for s in sets] == [(6, base)]

    # no connection: the set is kept, shown as pending, and sent when it returns
    page.context.set_offline(True)
    log_set(page, 4, base + 5)
    page.wait_for_selector("#sets li.pending:has-text('pending')")
    queued = page.evaluate("() => JSON.parse(localStorage.getItem('trainledger.pendingSets'))")
    assert len(queued) == 1
    assert queued[0]["sessionId"] == session_id
    assert len(api(service, "GET", f"/sessions/{session_id}")["sets"]) == 1
    fits_a_phone(page, width)
    page.screenshot(path=str(shots / f"log-offline-{width}.png"), full_page=True)
    page.context.set_offline(False)
    page.wait_for_function("() => document.querySelectorAll('#sets li[data-set-id]').length == 2"
                           " && !document.querySelector('#sets li.pending')", timeout=20_000)
    sets = api(service, "GET", f"/sessions/{session_id}")["sets"]
    assert [(s["reps"], s["load_kg"]) for s in sets] == [(6, base), (4, base + 5)]
    # the same key again is the same set: the server logged it once
    again = api(service, "POST", f"/sessions/{session_id}/sets", json=queued[0]["body"],
                headers={"Authorization": f"Bearer {service.athlete_token}",
                         "Idempotency-Key": queued[0]["key"]})
    assert again["set"]["set_id"] == sets[1]["set_id"]
    assert len(api(service, "GET", f"/sessions/{session_id}")["sets"]) == 2

    # end with the real duration, then the summary
    page.fill("#session-rpe", "7")
    page.fill("#duration", "55")
    page.click("#end")
    page.wait_for_selector("#summary:not([hidden])")
    assert page.inner_text("#summary [data-fact=duration]") == "55 min"
    assert page.inner_text("#summary [data-fact=sets]") == "2 working, 0 warm-up"
    assert page.inner_text("#summary-exercises") == (
        f"Romanian deadlift: 6 × {base:g} kg @ RPE 8, 4 × {base + 5:g} kg")
    prs = page.inner_text("#summary-prs")
    assert f"heaviest {base + 10:g} kg" not in prs  # the deleted set's PR is gone with it
    fits_a_phone(page, width)
    page.screenshot(path=str(shots / f"log-summary-{width}.png"), full_page=True)
    ended = api(service, "GET", f"/sessions/{session_id}")
    assert (ended["status"], ended["duration_min"], ended["session_rpe"]) == ("ended", 55, 7)

    # a forgotten set, after End
    page.click("#summary-more")
    page.wait_for_selector("#edit-end", state="visible")
    choose(page, "rdl", "Romanian deadlift")
    log_set(page, 8, base - 20)
    page.wait_for_function("() => document.querySelectorAll('#sets li[data-set-id]').length == 3")
    fits_a_phone(page, width)
    page.screenshot(path=str(shots / f"log-ended-{width}.png"), full_page=True)
    late = api(service, "GET", f"/sessions/{session_id}")["sets"][-1]
    assert (late["reps"], late["load_kg"], late["performed_at"]) == (
        8, base - 20, ended["ended_at"])

    # the views: the session, started from its slot, counts as training
    def executed() -> Any:
        rows = api(service, "GET", f"/athletes/{service.athlete_id}/views/execution")["sessions"]
        row = next((r for r in rows if r["session_id"] == session_id), None)
        return row if row and row["classification"] else None

    row = wait_until(executed, "the execution view to list the session")
    assert (row["planned_role"], row["classification"]) == ("training", "training"), row
    assert row["day"] == date.fromisoformat(row["day"]).isoformat()


def test_the_sign_in_outlives_the_tab_and_an_old_tab_token_moves_over(
    open_page: OpenPage, service: DemoService,
) -> None:
    # before: the raw token lived in the tab's sessionStorage under "trainledger.token"; it
    # is exchanged for a device token of this browser's own, and no longer kept
    page = open_page("/log", None, 375, 812)
    page.evaluate("(t) => sessionStorage.setItem('trainledger.token', t)", service.athlete_token)
    page.reload()
    page.wait_for_selector("#pick:not([hidden])")
    stored = page.evaluate("() => [localStorage.getItem('trainledger.pastedToken'), "
                           "sessionStorage.getItem('trainledger.token'), "
                           "localStorage.getItem('trainledger.device')]")
    assert stored[:2] == [None, None]
    device = json.loads(stored[2])
    assert device["token"] != service.athlete_token
    assert service.athlete_token not in page.evaluate("() => JSON.stringify(localStorage)")
    # another tab of the same browser is signed in too
    tab = page.context.new_page()
    tab.goto(service.url + "/log")
    tab.wait_for_selector("#pick:not([hidden])")
    assert tab.is_hidden("#signin")
    # signing out revokes the device's token and forgets it; the athlete's token stays
    tab.click("#signout")
    tab.wait_for_selector("#signin:not([hidden])")
    assert tab.evaluate("() => localStorage.getItem('trainledger.device')") is None
    me = httpx.get(f"{service.url}/me", headers={"Authorization": f"Bearer {device['token']}"})
    assert me.status_code == 401
    assert httpx.get(f"{service.url}/me", headers={
        "Authorization": f"Bearer {service.athlete_token}"}).status_code == 200


def test_an_athlete_in_pounds_logs_and_reads_pounds(open_page: OpenPage,
                                                    service: DemoService) -> None:
    created = api(service, "POST", "/athletes", json={"name": "Pound Lifter", "mass_unit": "lb"})
    page = open_page("/log", created["token"], 375, 812, has_touch=True, is_mobile=True)
    page.wait_for_selector("#pick:not([hidden])")
    assert "No plan for this week yet" in page.inner_text("#plan-slots")  # ad hoc, then
    page.click("#start")
    page.wait_for_selector("#active:not([hidden])")
    assert page.inner_text("label[for=load]") == "Load (lb)"
    choose(page, "ohp", "Overhead press")
    log_set(page, 5, 95)
    page.wait_for_selector("#sets li[data-set-id]")
    assert page.inner_text("#sets li .what") == "Overhead press 5 × 95 lb"
    session_id = page.evaluate("() => window.trainledgerLog.active.session_id")
    logged = api(service, "GET", f"/sessions/{session_id}")["sets"][0]
    assert abs(logged["load_kg"] - 95 * 0.45359237) < 1e-3
    page.click("#sets li[data-set-id] >> button.edit")
    assert page.input_value("#load") == "95"  # back in pounds, not 43.09
    page.fill("#load", "100")
    page.click("#log-set")
    page.wait_for_selector("#sets li .what:has-text('5 × 100 lb')")
    fits_a_phone(page, 375)


@ON_STORES
def test_a_session_logged_after_the_gym_gets_its_real_times(
        open_page: OpenPage, service: DemoService, width: int) -> None:
    created = api(service, "POST", "/athletes", json={"name": f"Late {width}",
                                                     "timezone": "UTC"})
    athlete_id, token = created["athlete"]["athlete_id"], created["token"]
    phone = width < 600
    page = open_page("/log", token, width, 900, has_touch=phone, is_mobile=phone)
    page.wait_for_selector("#start", state="visible")
    page.click("#start")  # tapped at home, after the gym
    page.wait_for_selector("#active", state="visible")
    session_id = page.evaluate("() => window.trainledgerLog.active.session_id")
    choose(page, "rdl", "Romanian deadlift")
    log_set(page, 8, 100)
    page.wait_for_selector("#sets li[data-set-id]")
    # while open, the start can be set: the real one, earlier today
    now = datetime.now(ZoneInfo("UTC")).replace(second=0, microsecond=0)
    back = min(180, now.hour * 60 + now.minute - 2)  # stay within today
    start, end = now - timedelta(minutes=back), now - timedelta(minutes=back // 3)
    assert page.is_hidden("#edit-end")
    page.fill("#edit-start", start.strftime("%H:%M"))
    page.click("#save-details")
    page.wait_for_function("(t) => document.getElementById('message').textContent"
                           ".startsWith(t)", arg="Saved: started")
    opened = api(service, "GET", f"/sessions/{session_id}")
    assert (datetime.fromisoformat(opened["started_at"]), opened["status"]) == (start, "open")
    fits_a_phone(page, width)

    page.fill("#session-rpe", "6")
    page.click("#end")
    page.wait_for_selector("#summary", state="visible")
    page.click("#summary-more")
    page.wait_for_selector("#edit-end", state="visible")
    assert page.input_value("#edit-start") == start.strftime("%H:%M")
    # after End: the real end; the duration follows it
    page.fill("#edit-end", end.strftime("%H:%M"))
    page.click("#save-details")
    minutes = (end - start).total_seconds() / 60
    page.wait_for_function("(m) => document.getElementById('edit-duration').value == m",
                           arg=str(round(minutes)))
    fixed = api(service, "GET", f"/sessions/{session_id}")
    assert (datetime.fromisoformat(fixed["started_at"]), datetime.fromisoformat(
        fixed["ended_at"]), fixed["duration_min"]) == (start, end, minutes)
    # then a duration of its own (pauses out) and the RPE
    page.fill("#edit-duration", str(round(minutes) - 5))
    page.fill("#edit-rpe", "7")
    page.click("#save-details")
    page.wait_for_function("(m) => document.getElementById('message').textContent"
                           ".includes(m)", arg=f"{round(minutes) - 5} min, session RPE 7")
    assert f"{round(minutes) - 5} min" in page.inner_text("#session-facts")
    fits_a_phone(page, width)

    # the views count the real minutes and the real day
    def load_row() -> Any:
        rows = httpx.get(f"{service.url}/athletes/{athlete_id}/views/load", timeout=10,
                         headers={"Authorization": f"Bearer {token}"}).json()["sessions"]
        row = next((r for r in rows if r["session_id"] == session_id), None)
        return row if row and row["minutes"] == round(minutes) - 5 else None

    row = wait_until(load_row, "the load view to count the real minutes")
    assert (row["day"], row["session_rpe"], row["srpe_load"]) == (
        start.date().isoformat(), 7, 7 * (round(minutes) - 5))
    executed = httpx.get(f"{service.url}/athletes/{athlete_id}/views/execution", timeout=10,
                         headers={"Authorization": f"Bearer {token}"}).json()["sessions"]
    assert [r["day"] for r in executed if r["session_id"] == session_id] == [
        start.date().isoformat()]


@ON_STORES
def test_a_planned_slot_shows_its_prescription_and_logs_from_it(
    open_page: OpenPage, service: DemoService, width: int,
) -> None:
    title = f"Prescribed {width}"
    slot_id, _ = plan_today(service, title)
    week = api(service, "GET", f"/athletes/{service.athlete_id}/plans")
    monday = next(p["week_start"] for p in week
                  if any(s["planned_session_id"] == slot_id for s in p["sessions"]))
    steps = [{"kind": "strength", "exercise_id": RDL, "sets": 3, "reps": 5, "load": 120,
              "load_unit": "kg", "rest_s": 150},
             {"kind": "endurance", "duration_s": 600,
              "target": {"type": "heart_rate", "low": 120, "high": 140}}]
    api(service, "PUT", f"/athletes/{service.athlete_id}/plans/{monday}/sessions/{slot_id}"
        "/prescription", json={"steps": steps})
    options = {"has_touch": True, "is_mobile": True} if width < 400 else {}
    page = open_page("/log", service.athlete_token, width, 812 if width < 400 else 900,
                     **options)
    page.click(f"#plan-slots button[data-slot='{slot_id}']")
    page.wait_for_selector("#prescription-steps li >> nth=0 >> strong:text-is('Romanian deadlift')")
    lines = page.locator("#prescription-steps li").all_inner_texts()
    assert len(lines) == 2
    assert "Romanian deadlift" in lines[0]
    assert "3 × 5 @ 120 kg, rest 2:30" in lines[0]
    assert "0 of 3 done" in lines[0]
    assert "10:00 min @ HR 120–140 bpm" in lines[1]
    fits_a_phone(page, width)

    # "Log it" picks the step's exercise, reps and load; the set counts toward the step
    page.click("#prescription-steps li >> nth=0 >> button")
    assert page.inner_text("#exercise-chosen") == "Exercise: Romanian deadlift"
    assert (page.input_value("#reps"), page.input_value("#load")) == ("5", "120")
    page.click("#log-set")
    page.wait_for_selector("#prescription-steps li >> nth=0 >> text=1 of 3 done")
    session_id = page.evaluate("() => window.trainledgerLog.active.session_id")
    sets = api(service, "GET", f"/sessions/{session_id}")["sets"]
    assert [(s["exercise_id"], s["reps"], s["load_kg"]) for s in sets] == [(RDL, 5, 120.0)]
