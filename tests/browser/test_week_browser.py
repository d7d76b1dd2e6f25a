# ruff: noqa: F811  (the fixtures come from support_browser, by name)
"""The "This week" page in headless Chromium against the real service, at phone (375 px) and
desktop (1280 px) width: a new athlete is led through setting an objective, planning the week
and checking in; the conversion is offered only when readiness says ready, and made from the
page.  Each flow checks the views that result through the API, and at 375 px that the page
does not scroll sideways and that every control is a tap target of at least 44 px."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from support_browser import (  # noqa: F401
    FRESH_ON_STORES,
    ON_STORES,
    OpenPage,
    api,
    assert_fits_a_phone,
    browser,
    fresh_demo,
    open_fresh,
    open_page,
    service,
    view,
)

from bench.dashboard_screenshot import DemoService
from services.domain.validation import LB_IN_KG

LOADED = "(n) => window.trainledgerWeek && window.trainledgerWeek.loads > n"


def loads(page: Any) -> int:
    return int(page.evaluate("() => window.trainledgerWeek.loads"))


def as_athlete(svc: DemoService, token: str, path: str) -> Any:
    r = httpx.get(svc.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    r.raise_for_status()
    return r.json()


def new_athlete(svc: DemoService, name: str, **profile: Any) -> tuple[str, str]:
    created = api(svc, "POST", "/athletes", json={"name": name, **profile})
    athlete_id = created["athlete"]["athlete_id"]
    return athlete_id, created["token"]


@ON_STORES
def test_a_new_athlete_sets_an_objective_plans_the_week_and_checks_in(
        open_page: OpenPage, service: DemoService, width: int) -> None:
    athlete_id, token = new_athlete(service, f"New {width}", mass_unit="lb", timezone="UTC")
    phone = width < 600
    page = open_page("/week", token, width, 900, has_touch=phone, is_mobile=phone)
    page.wait_for_function(LOADED, arg=0, timeout=20_000)

    # getting started: three steps, none done; every empty panel says what to do next
    assert page.is_visible("#start")
    steps = page.locator("#start li")
    assert steps.count() == 3
    assert [steps.nth(i).get_attribute("data-done") for i in range(3)] == ["no"] * 3
    for empty in ("#goals-empty", "#week-empty", "#execution-empty"):
        assert page.is_visible(empty), empty
    assert "Plan the week" in page.inner_text("#review-body")
    assert page.inner_text("#ci-mass-unit") == "lb"
    if phone:
        assert_fits_a_phone(page)

    # set an objective, with a custom metric and a deadline
    deadline = (datetime.now(UTC).date() + timedelta(weeks=8)).isoformat()
    n = loads(page)
    page.fill("#g-title", "Deep work 25 h a week")
    page.select_option("#g-kind", "custom")
    page.fill("#g-metric", "deep_work_hours")
    page.fill("#g-target", "25")
    page.fill("#g-unit", "h")
    page.fill("#g-deadline", deadline)
    page.click("#goal-save")
    page.wait_for_function(LOADED, arg=n, timeout=20_000)
    goals = as_athlete(service, token, f"/athletes/{athlete_id}/goals")
    assert [(g["title"], g["metric"], g["target_value"], g["unit"], g["deadline"])
            for g in goals] == [("Deep work 25 h a week",
                                 {"kind": "custom", "name": "deep_work_hours"}, 25.0, "h",
                                 deadline)]
    goal_id = goals[0]["goal_id"]
    card = page.locator(f".goal-card[data-goal='{goal_id}']")
    assert "Deep work 25 h a week" in card.inner_text()
    assert page.get_attribute("#step-objective", "data-done") == "yes"

    # edit it: a new target
    card.locator("button.edit").click()
    page.fill("#g-target", "28")
    n = loads(page)
    page.click("#goal-save")
    page.wait_for_function(LOADED, arg=n, timeout=20_000)
    assert as_athlete(service, token, f"/goals/{goal_id}")["target_value"] == 28

    # plan this week: 3 training sessions for the objective + 1 volume
    n = loads(page)
    page.click("#plan-week")
    page.wait_for_function(LOADED, arg=n, timeout=20_000)
    week = page.evaluate("() => window.trainledgerWeek.weekStart")
    plan = as_athlete(service, token, f"/athletes/{athlete_id}/plans/{week}")
    roles = sorted((s["role"], s["objective_id"]) for s in plan["sessions"])
    assert roles == [("training", goal_id)] * 3 + [("volume", None)]
    slots = page.locator("#slots li")
    assert slots.count() == 4
    for slot in plan["sessions"]:  # tap a slot: /log with the slot in the URL
        link = page.locator(f"#slots li[data-slot='{slot['planned_session_id']}'] a")
        assert f"slot={slot['planned_session_id']}" in (link.get_attribute("href") or "")
    assert page.get_attribute("#step-plan", "data-done") == "yes"
    execution = view(service, "execution", token) if False else as_athlete(
        service, token, f"/athletes/{athlete_id}/views/execution")
    row = next(w for w in execution["weeks"] if w["week_start"] == week)
    assert f"Due so far: {row['planned']}" in page.inner_text("#execution-summary")

    # check in: sleep, deep work, body mass in lb, resting HR
    n = loads(page)
    page.fill("#ci-sleep", "7.5")
    page.fill("#ci-deep", "4")
    page.fill("#ci-mass", "176")
    page.fill("#ci-rhr", "52")
    page.click("#checkin-save")
    page.wait_for_function(LOADED, arg=n, timeout=20_000)
    assert page.inner_text("#checkin-result").startswith("Checked in:")
    seen = {o["metric"]: (o["value"], o["unit"]) for o in
            as_athlete(service, token, f"/athletes/{athlete_id}/observations")}
    assert seen["sleep_hours"] == (7.5, "h")
    assert seen["deep_work_hours"] == (4.0, "h")
    assert seen["resting_hr"] == (52.0, "bpm")
    assert seen["body_mass"][1] == "kg"
    assert seen["body_mass"][0] == pytest.approx(176 * LB_IN_KG, abs=0.01)

    # readiness for a new athlete: not ready, criteria not judged shown so, no Convert
    readiness = as_athlete(service, token, f"/athletes/{athlete_id}/views/readiness")
    assert readiness["verdict"] != "ready"
    assert page.inner_text("#verdict-line") == readiness["line"]
    assert page.is_hidden("#convert-form")
    unjudged = [c["name"] for c in readiness["criteria"] if not c["judged"]]
    assert unjudged
    for name in unjudged:
        assert page.inner_text(f"#criteria tr[data-criterion='{name}'] td.result") == \
            "– not judged"

    # cancel a session, with its reason
    volume = next(s for s in plan["sessions"] if s["role"] == "volume")
    li = page.locator(f"#slots li[data-slot='{volume['planned_session_id']}']")
    cancel = li.locator("details:not(.change)")
    cancel.locator("summary").click()
    cancel.locator("input").fill("travelling")
    n = loads(page)
    cancel.locator("button").click()
    page.wait_for_function(LOADED, arg=n, timeout=20_000)
    assert page.get_attribute(f"#slots li[data-slot='{volume['planned_session_id']}']",
                              "data-status") == "cancelled"
    if phone:
        assert_fits_a_phone(page)


@FRESH_ON_STORES
def test_convert_is_offered_only_when_ready_and_converts(
        browser: Any, fresh_demo: DemoService, width: int) -> None:
    svc, problems = fresh_demo, []
    base = f"/athletes/{svc.athlete_id}"
    page = open_fresh(browser, svc, "/week", svc.athlete_token, width, problems)
    page.wait_for_function(LOADED, arg=0, timeout=20_000)
    # the demo plans its current week, and is ready in it; planning next week leaves a volume
    # session ahead to convert
    weeks = sorted(p["week_start"] for p in api(svc, "GET", f"{base}/plans"))
    following = (datetime.fromisoformat(weeks[-1]) + timedelta(days=7)).date().isoformat()
    api(svc, "POST", f"{base}/plans", json={"week_start": following})
    # a stricter ACWR floor than the demo meets: not yet, and no Convert anywhere
    api(svc, "PATCH", f"{base}/settings", json={"readiness_acwr_low": 4.5})
    page.reload()
    page.wait_for_function(LOADED, arg=0, timeout=20_000)
    readiness = view(svc, "readiness")
    assert readiness["verdict"] == "not yet", readiness["line"]
    assert page.inner_text("#verdict") == "Not yet"
    assert page.is_hidden("#convert-form")
    assert "onvert" not in page.inner_text("#readiness .verdict-line").split("—")[0]

    # the athlete accepts a lower ACWR floor: now ready, and the Convert button appears
    api(svc, "PATCH", f"{base}/settings", json={"readiness_acwr_low": 0.3})
    page.reload()
    page.wait_for_function(LOADED, arg=0, timeout=20_000)
    readiness = view(svc, "readiness")
    assert readiness["verdict"] == "ready", readiness["line"]
    assert readiness["recommended"] is not None
    assert page.inner_text("#verdict") == "Ready"
    assert page.inner_text("#verdict-line") == readiness["line"]
    assert page.is_visible("#convert-form")

    # goal cards: progress %, now, trend, projected date; a reached goal offers to raise it
    for g in view(svc, "goals")["goals"]:
        card = page.locator(f".goal-card[data-goal='{g['goal_id']}']")
        text = card.inner_text()
        assert f"{round(g['percent']):d}%" in text, g["title"]
        assert "now " in text
        if g["projected_date"]:
            assert f"projected {g['projected_date']}" in text
        assert card.locator("button.raise").count() == (
            1 if g["progress"] == "reached" and g["status"] == "active" else 0), g["title"]
    reached = next(g for g in view(svc, "goals")["goals"] if g["progress"] == "reached")
    page.locator(f".goal-card[data-goal='{reached['goal_id']}'] button.raise").click()
    assert page.inner_text("#goal-form-title") == "Raise the target"
    assert float(page.input_value("#g-target")) == reached["target_value"]
    page.click("#goal-cancel")
    if width < 600:
        assert_fits_a_phone(page)

    # it asks for the objective first
    page.click("#convert")
    assert "Choose the objective" in page.inner_text("#message") or \
        page.evaluate("() => !document.getElementById('convert-objective').checkValidity()")
    goal = next(g for g in view(svc, "goals")["goals"] if g["status"] == "active")
    page.select_option("#convert-objective", goal["goal_id"])
    n = loads(page)
    page.click("#convert")
    page.wait_for_function(LOADED, arg=n, timeout=20_000)
    slot = readiness["recommended"]["planned_session_id"]
    plan = api(svc, "GET", f"{base}/plans/{readiness['recommended']['week_start']}")
    converted = next(s for s in plan["sessions"] if s["planned_session_id"] == slot)
    assert (converted["converted"], converted["role"], converted["objective_id"]) == \
        (True, "training", goal["goal_id"])
    assert page.inner_text("#message").startswith("Converted")
    # nothing left to convert: no Convert button
    assert page.is_hidden("#convert-form")
    assert problems == []


def test_a_coach_reads_the_week_without_forms(open_page: OpenPage,
                                              service: DemoService) -> None:
    coach = api(service, "POST", "/coaches", json={"name": "Coach Week"})
    api(service, "POST", f"/athletes/{service.athlete_id}/grants",
        json={"coach_id": coach["coach"]["coach_id"]})
    page = open_page("/week", coach["token"], 375, 812, has_touch=True, is_mobile=True)
    page.wait_for_function(LOADED, arg=0, timeout=20_000)
    assert "Demo Athlete" in page.inner_text("#title")
    for form in ("#goal-form", "#plan-form", "#convert-form", "#checkin-form"):
        assert page.is_hidden(form), form
    assert page.locator("#slots a, .goal-card button").count() == 0
    assert page.locator(".goal-card").count() == len(view(service, "goals")["goals"])
    assert_fits_a_phone(page)


@ON_STORES
def test_a_slot_is_moved_retitled_and_given_another_sport_and_objective(
        open_page: OpenPage, service: DemoService, width: int) -> None:
    athlete_id, token = new_athlete(service, f"Mover {width}", timezone="UTC")
    base = f"/athletes/{athlete_id}"
    deadline = (datetime.now(UTC).date() + timedelta(weeks=8)).isoformat()
    strength, endurance = (api(service, "POST", f"{base}/goals", json={
        "title": title, "metric": {"kind": "custom", "name": name}, "target_value": 10,
        "unit": "x", "deadline": deadline})["goal_id"]
        for title, name in (("Stronger", "strength_score"), ("Run 10 k", "run_score")))
    today = datetime.now(UTC).date()
    week = (today - timedelta(days=today.weekday())).isoformat()  # the default: Monday
    plan = api(service, "POST", f"{base}/plans", json={
        "week_start": week, "objective_ids": [strength] * 3})
    # a training slot on another day than today: it moves to today
    slot = next(s for s in plan["sessions"] if s["role"] == "training"
                and s["day"] != today.isoformat())
    sid = slot["planned_session_id"]
    phone = width < 600
    page = open_page("/week", token, width, 900, has_touch=phone, is_mobile=phone)
    page.wait_for_function(LOADED, arg=0, timeout=20_000)
    assert page.is_hidden("#history")  # no change yet

    li = page.locator(f"#slots li[data-slot='{sid}']")
    li.locator("details.change summary").click()
    page.select_option(f"#day-{sid}", today.isoformat())
    page.fill(f"#title-{sid}", "Tempo run")
    page.fill(f"#sport-{sid}", "running")
    page.select_option(f"#objective-{sid}", endurance)
    if phone:
        assert_fits_a_phone(page)
    n = loads(page)
    li.locator("details.change button[type=submit]").click()
    page.wait_for_function(LOADED, arg=n, timeout=20_000)
    assert page.inner_text("#message") == "Session changed."

    # four plan events of their own, in the week's history and on the page
    changed = next(s for s in as_athlete(service, token, f"{base}/plans/{week}")["sessions"]
                   if s["planned_session_id"] == sid)
    assert (changed["day"], changed["title"], changed["sport"], changed["objective_id"]) == \
        (today.isoformat(), "Tempo run", "running", endurance)
    types = [e["type"] for e in as_athlete(service, token, f"{base}/plans/{week}/history")]
    assert types == ["Planned", "SessionMoved", "SessionRetitled", "SessionSportChanged",
                     "SessionObjectiveChanged"]
    page.click("#history summary")
    history = page.locator(f"#plan-history li[data-slot='{sid}']")
    assert [history.nth(i).get_attribute("data-type") for i in range(history.count())] == \
        types[1:]
    text = page.inner_text("#plan-history")
    assert "Tempo run: moved to" in text
    assert "now for “Run 10 k”" in text
    slot_text = page.inner_text(f"#slots li[data-slot='{sid}'] .slot-head")
    assert "Tempo run · Run 10 k" in slot_text

    # execution uses the new day: the slot is due today, and a run today fills it, as
    # training for the new objective
    execution = as_athlete(service, token, f"{base}/views/execution")
    row = next(w for w in execution["weeks"] if w["week_start"] == week)
    plan_now = as_athlete(service, token, f"{base}/plans/{week}")["sessions"]
    assert row["planned"] == sum(1 for s in plan_now if s["day"] <= today.isoformat())
    assert f"Due so far: {row['planned']}" in page.inner_text("#execution-summary")
    started = (datetime.now(UTC) - timedelta(minutes=50)).replace(microsecond=0)
    if started.date() != today:
        started = datetime.now(UTC).replace(microsecond=0)
    run = httpx.post(f"{service.url}{base}/sessions", timeout=10,
                     headers={"Authorization": f"Bearer {token}"},
                     json={"started_at": started.isoformat(), "sport": "running",
                           "end": {"ended_at": started.isoformat(), "duration_min": 45,
                                   "session_rpe": 6}})
    assert run.status_code == 201, run.text
    assert (run.json()["planned_session_id"], run.json()["objective_id"]) == (sid, endurance)
    page.reload()
    page.wait_for_function(LOADED, arg=0, timeout=20_000)
    assert page.get_attribute(f"#slots li[data-slot='{sid}']", "data-status") == "done"
    executed = next(s for s in as_athlete(service, token, f"{base}/views/execution")["sessions"]
                    if s["session_id"] == run.json()["session_id"])
    assert executed["classification"] == "training", executed["reason"]
    assert page.get_attribute(
        f"#executed li[data-session='{run.json()['session_id']}']",
        "data-classification") == "training"
    if phone:
        assert_fits_a_phone(page)


@ON_STORES
def test_a_check_in_of_a_custom_metric_moves_its_objective(
        open_page: OpenPage, service: DemoService, width: int) -> None:
    athlete_id, token = new_athlete(service, f"Writer {width}", timezone="UTC")
    phone = width < 600
    page = open_page("/week", token, width, 900, has_touch=phone, is_mobile=phone)
    page.wait_for_function(LOADED, arg=0, timeout=20_000)
    # the custom metric exists through the objective measured by it
    page.fill("#g-title", "Write a thesis")
    page.select_option("#g-kind", "custom")
    page.fill("#g-metric", "pages_written")
    page.fill("#g-target", "100")
    page.fill("#g-unit", "pages")
    n = loads(page)
    page.click("#goal-save")
    page.wait_for_function(LOADED, arg=n, timeout=20_000)
    assert "pages_written" in page.inner_text("#ci-custom-hint")
    assert page.evaluate("() => [...document.querySelectorAll('#custom-metrics option')]"
                         ".map((o) => o.value)") == ["pages_written"]

    page.fill("#ci-custom-name", "pages_written")
    page.fill("#ci-custom-value", "12")
    n = loads(page)
    page.click("#checkin-save")
    page.wait_for_function(LOADED, arg=n, timeout=20_000)
    assert page.inner_text("#checkin-result") == "Checked in: pages written."
    seen = [(o["metric"], o["value"], o["unit"]) for o in
            as_athlete(service, token, f"/athletes/{athlete_id}/observations")]
    assert seen == [("pages_written", 12.0, "pages")]
    goal = as_athlete(service, token, f"/athletes/{athlete_id}/views/goals")["goals"][0]
    assert (goal["title"], goal["current_value"]) == ("Write a thesis", 12)
    percent = f"{round(goal['percent'])}%"  # of the way from the first value
    card = page.inner_text(f".goal-card[data-goal='{goal['goal_id']}']")
    assert "now 12 pages · target 100 pages" in card
    assert percent in card
    assert f"Write a thesis: {percent}" in page.inner_text("#review-body")
    if phone:
        assert_fits_a_phone(page)


def test_the_week_review_is_shared_with_the_coach(open_page: OpenPage,
                                                  service: DemoService) -> None:
    athlete_id, token = new_athlete(service, "Reviewed", timezone="UTC")
    base = f"/athletes/{athlete_id}"
    today = datetime.now(UTC).date()
    week = (today - timedelta(days=today.weekday())).isoformat()
    plan = api(service, "POST", f"{base}/plans", json={"week_start": week})
    volume = next(s for s in plan["sessions"] if s["role"] == "volume")
    api(service, "POST", f"{base}/plans/{week}/sessions/{volume['planned_session_id']}/cancel",
        json={"reason": "knee niggle"})
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    if started.date() != today:
        started = datetime.now(UTC).replace(microsecond=0)
    api(service, "POST", f"{base}/sessions", json={
        "started_at": started.isoformat(), "planned_role": "unplanned",
        "notes": "felt strong on the last set",
        "end": {"ended_at": started.isoformat(), "duration_min": 40, "session_rpe": 6}})
    coach = api(service, "POST", "/coaches", json={"name": "Coach Review"})
    api(service, "POST", f"{base}/grants", json={"coach_id": coach["coach"]["coach_id"]})

    # the athlete comments on the week from the review
    page = open_page("/week", token, 1280, 900)
    page.wait_for_function(LOADED, arg=0, timeout=20_000)
    review = page.inner_text("#review-body")
    assert "cancelled — knee niggle" in review
    assert "felt strong on the last set" in review
    # each slot's status is the execution view's: the same slots missed, in the list and
    # in the review
    row = next(w for w in as_athlete(service, token, f"{base}/views/execution")["weeks"]
               if w["week_start"] == week)
    for where in ("#slots", "#review-body"):
        status = {s["planned_session_id"]: page.get_attribute(
            f"{where} li[data-slot='{s['planned_session_id']}']", "data-status")
            for s in plan["sessions"]}
        assert status[volume["planned_session_id"]] == "cancelled", where
        assert list(status.values()).count("missed") == len(row["missed"]), where
        assert list(status.values()).count("planned") == 4 - 1 - len(row["missed"]), where
    page.fill("#review-comment", "Busy week at work.")
    n = loads(page)
    page.click("#comment-save")
    page.wait_for_function(LOADED, arg=n, timeout=20_000)
    assert "athlete" in page.inner_text("#review-body .comments li[data-by='athlete']")

    # the coach reads the same review, on a phone, and answers
    page = open_page("/week", coach["token"], 375, 812, has_touch=True, is_mobile=True)
    page.wait_for_function(LOADED, arg=0, timeout=20_000)
    review = page.inner_text("#review-body")
    for seen in ("cancelled — knee niggle", "felt strong on the last set",
                 "Busy week at work."):
        assert seen in review, seen
    assert_fits_a_phone(page)
    page.fill("#review-comment", "Rest the knee; we move the volume session next week.")
    n = loads(page)
    page.click("#comment-save")
    page.wait_for_function(LOADED, arg=n, timeout=20_000)
    comments = as_athlete(service, token, f"{base}/plans/{week}")["comments"]
    assert [(c["by"]["kind"], c["text"]) for c in comments] == [
        ("athlete", "Busy week at work."),
        ("coach", "Rest the knee; we move the volume session next week.")]
    assert page.locator("#review-body .comments li").count() == 2
    assert_fits_a_phone(page)
