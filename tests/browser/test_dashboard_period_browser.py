# ruff: noqa: F811  (the fixtures come from support_browser, by name)
"""The dashboard's period, day and "as recorded then" controls, the sessions list with its
detail, the records table, hover legends and empty charts, in headless Chromium against the
real service, at 375 px and 1280 px.  What the page shows is compared with the views the API
gives for the same query."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fit_fixtures import activity
from support_browser import (  # noqa: F401
    FRESH_ON_STORES,
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

WIDTHS = pytest.mark.parametrize("width", [375, 1280])


def loaded(page: Any, after: int = 0) -> None:
    """A refresh after the ``after``-th has drawn what the controls ask for (a refresh the
    3 s poll began before they changed doesn't count)."""
    page.wait_for_function("(n) => { const d = window.trainledgerDashboard; "
                           "return d && d.refreshes > n && d.shown === d.query; }", arg=after,
                           timeout=20_000)


def refreshes(page: Any) -> int:
    return int(page.evaluate("() => window.trainledgerDashboard.refreshes"))


def chart_days(page: Any, name: str) -> list[str]:
    return list(page.evaluate(f"""() => window.trainledgerDashboard.charts.{name}.data[0]
        .map((t) => new Date(t * 1e3).toISOString().slice(0, 10))"""))


def phone(width: int) -> dict[str, Any]:
    return {"has_touch": True, "is_mobile": True} if width < 600 else {}


@WIDTHS
def test_period_day_and_as_recorded_then(open_page: OpenPage, service: DemoService,
                                         width: int) -> None:
    page = open_page("/", service.athlete_token, width, 900, **phone(width))
    loaded(page)
    today = date.fromisoformat(view(service, "fatigue")["day"])
    start = date.fromisoformat(page.input_value("#r-from"))
    assert (today - start).days in (83, 84, 85)  # 12 weeks by default
    assert min(chart_days(page, "fitness")) >= start.isoformat()
    if width < 600:
        assert_fits_a_phone(page)

    # a shorter period: the charts hold its days only, as the view does
    first, last = today - timedelta(weeks=6), today - timedelta(weeks=2)
    n = refreshes(page)
    page.fill("#r-from", first.isoformat())
    page.fill("#r-to", last.isoformat())
    page.dispatch_event("#r-to", "change")
    loaded(page, n)
    q = f"?from={first.isoformat()}&to={last.isoformat()}"
    assert page.evaluate("() => window.trainledgerDashboard.query") == q
    fatigue = view(service, "fatigue", query=q)
    assert chart_days(page, "fitness") == [r["day"] for r in fatigue["series"]]
    assert chart_days(page, "fitness")[0] == first.isoformat()
    assert chart_days(page, "fitness")[-1] == last.isoformat()

    # a day: the tiles are that day's figures
    day = today - timedelta(weeks=3)
    n = refreshes(page)
    page.fill("#r-on", day.isoformat())
    page.dispatch_event("#r-on", "change")
    loaded(page, n)
    then = view(service, "fatigue", query=f"?on={day.isoformat()}")
    assert page.inner_text("#t-ctl") == f"{round(then['today']['ctl'], 1):g}"
    assert f"figures for {day.isoformat()}" in page.inner_text("#status")

    # as recorded then: the audit path answers, and says so
    n = refreshes(page)
    page.select_option("#r-basis", "then")
    loaded(page, n)
    assert f"as_of={day.isoformat()}" in page.evaluate("() => window.trainledgerDashboard.query")
    assert "as recorded by" in page.inner_text("#status")

    # a period the wrong way round: refused with the reason, no crash
    n = refreshes(page)
    page.click("#r-reset")
    loaded(page, n)
    page.fill("#r-from", today.isoformat())
    page.fill("#r-to", (today - timedelta(days=7)).isoformat())
    page.dispatch_event("#r-to", "change")
    page.wait_for_function("() => document.getElementById('status').textContent"
                           ".includes('from is after to')", timeout=10_000)


@WIDTHS
def test_sessions_records_legends(open_page: OpenPage, service: DemoService,
                                  width: int) -> None:
    page = open_page("/", service.athlete_token, width, 900, **phone(width))
    loaded(page)
    q = page.evaluate("() => window.trainledgerDashboard.query")

    # sessions, week by week, each classified with the view's classification
    execution = view(service, "execution", query=q)
    items = page.locator("#sessions details.session")
    assert items.count() == len(view(service, "load", query=q)["sessions"]) > 20
    row = execution["sessions"][-1]
    item = page.locator(f"#sessions details[data-session='{row['session_id']}']")
    assert item.get_attribute("data-classification") == row["classification"]
    item.locator("summary").click()
    item.locator(".detail ol.sets li").first.wait_for(timeout=10_000)
    detail = item.locator(".detail").inner_text()
    assert f"{row['classification']}: {row['reason']}" in detail
    session = api(service, "GET", f"/sessions/{row['session_id']}")
    assert item.locator(".detail ol.sets li").count() == len(session["sets"])
    assert "load " in detail

    # the records table: one row per lift and kind of record, the standing one
    records = view(service, "strength", query=q)["records"]
    standing = {(r["exercise_id"], r["record"]): r for r in records}
    rows = page.locator("#pr-rows tr")
    assert rows.count() == len(standing) > 3
    squat = standing[("squat.back_squats", "heaviest_kg")]
    cell = page.locator("#pr-rows tr[data-exercise='squat.back_squats']"
                        "[data-record='heaviest_kg'] td").all_inner_texts()
    assert cell[1].endswith(f"{squat['value']:g} kg")
    assert cell[3].endswith(squat["set"]["day"])
    volume = page.locator("#pr-rows tr[data-exercise='squat.back_squats']"
                          "[data-record='set_volume_kg'] td").first
    assert volume.inner_text() == "Best set volume"

    # legends: the latest values without hovering, the hovered day's values on hover
    legend = page.locator("#chart-fitness .u-legend").inner_text()
    fatigue = view(service, "fatigue", query=q)
    assert f"{fatigue['series'][-1]['ctl']:.1f}" in legend
    over = page.locator("#chart-fitness .u-over")
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_function("() => window.trainledgerDashboard.charts.fitness.cursor.idx "
                           "!== null")
    idx = page.evaluate("() => window.trainledgerDashboard.charts.fitness.cursor.idx")
    hovered = page.locator("#chart-fitness .u-legend").inner_text()
    assert fatigue["series"][idx]["day"] in hovered
    assert f"{fatigue['series'][idx]['ctl']:.1f}" in hovered

    # every metric's units in a line
    assert "not TSS" in page.inner_text("#h-load ~ .desc")
    assert "yesterday's fitness minus yesterday's fatigue" in page.inner_text(
        "#h-fitness ~ .desc")
    if width < 600:
        assert_fits_a_phone(page)


def test_an_empty_chart_says_no_data_yet(open_page: OpenPage, service: DemoService) -> None:
    created = api(service, "POST", "/athletes", json={"name": "Empty"})
    page = open_page("/", created["token"], 375, 812, has_touch=True, is_mobile=True)
    loaded(page)
    for chart in ("fitness", "acwr", "load", "weeks", "e1rm"):
        note = page.locator(f"#chart-{chart}").locator("xpath=preceding-sibling::p[1]")
        assert note.inner_text().startswith("No data yet"), chart
        assert note.is_visible(), chart
    assert page.inner_text("#goals").startswith("No goals yet: set an objective")
    assert page.inner_text("#session-weeks").startswith("No sessions yet")
    assert page.is_visible("#prs-empty")
    assert_fits_a_phone(page)


@WIDTHS
def test_a_first_session_is_charted_on_a_scale_of_days(open_page: OpenPage, service: DemoService,
                                                       width: int) -> None:
    """A new athlete's one session: each chart spans about a week around it (uPlot alone
    spans a single day over 1000 days, its axis reading 2027, 2028, 2029)."""
    created = api(service, "POST", "/athletes", json={"name": "First Session"})
    athlete = f"/athletes/{created['athlete']['athlete_id']}"
    started = datetime.now(UTC) - timedelta(hours=2)
    monday = started.date() - timedelta(days=started.weekday())
    api(service, "POST", f"{athlete}/plans", json={"week_start": monday.isoformat()})
    api(service, "POST", f"{athlete}/sessions", json={
        "started_at": started.isoformat(), "planned_role": "unplanned",
        "sets": [{"exercise_id": "squat.back_squats", "reps": 5, "load": 60, "rpe": 7}],
        "end": {"duration_min": 45, "session_rpe": 7}})
    page = open_page("/", created["token"], width, 900, **phone(width))
    loaded(page)
    spans = page.evaluate("""() => Object.fromEntries(Object.entries(
        window.trainledgerDashboard.charts).map(([k, u]) => [k,
          [u.data[0].length, (u.scales.x.max - u.scales.x.min) / 86400]]))""")
    assert spans["e1rm"][0] == 1, spans  # the one day with a set
    assert spans["weeks"] == [1, 7], spans  # the one planned week
    for name, (_, days) in spans.items():
        assert 1 <= days <= 15, f"{name} spans {days:.0f} days: {spans}"
    if width < 600:
        assert_fits_a_phone(page)


@FRESH_ON_STORES
def test_an_imported_sessions_detail_shows_its_laps_and_heart_rate(
        browser: Any, fresh_demo: DemoService, width: int) -> None:
    svc, problems = fresh_demo, []
    started = (datetime.now(UTC) - timedelta(days=2)).replace(hour=7, minute=0, second=0,
                                                               microsecond=0)
    upload = httpx.post(f"{svc.url}/athletes/{svc.athlete_id}/imports/fit",
                        params={"wait": 60}, files=[("files", ("run.fit", activity(started)))],
                        headers={"Authorization": f"Bearer {svc.athlete_token}"}, timeout=90)
    assert upload.status_code == 202, upload.text
    (answer,) = upload.json()
    assert answer["status"] == "imported", answer
    session_id = next(s["session_id"] for s in api(
        svc, "GET", f"/athletes/{svc.athlete_id}/sessions?limit=10")
        if datetime.fromisoformat(s["started_at"]) == started)
    laps = api(svc, "GET", f"/sessions/{session_id}/laps")
    histogram = api(svc, "GET", f"/sessions/{session_id}")["hr_histogram"]
    assert laps
    assert histogram
    # a strength session ended without a set logged: there, and only there, "No sets."
    empty = api(svc, "POST", f"/athletes/{svc.athlete_id}/sessions", json={
        "started_at": (started + timedelta(hours=10)).isoformat(), "planned_role": "unplanned",
        "end": {"duration_min": 30, "session_rpe": 5}})["session_id"]

    page = open_fresh(browser, svc, "/", svc.athlete_token, width, problems)
    loaded(page)
    item = page.locator(f"#sessions details[data-session='{session_id}']")
    item.locator("summary").click()
    item.locator(".detail .lap-table tbody tr").first.wait_for(timeout=10_000)
    assert item.locator(".detail .lap-table tbody tr").count() == len(laps)
    first = item.locator(".detail .lap-table tbody tr").first.locator("td").all_inner_texts()
    time_, distance, _, avg_hr, _ = first  # the lap's number is the row's header
    assert abs(float(time_.removesuffix(" min")) - laps[0]["timer_s"] / 60) <= 0.051  # 1 decimal
    assert abs(float(distance.removesuffix(" km")) - laps[0]["distance_m"] / 1000) <= 0.0051
    assert avg_hr == (f"{round(laps[0]['avg_hr'])}" if laps[0]["avg_hr"] else "–")
    assert "sets" not in item.locator(".detail").inner_text().lower()  # a run: its laps
    strength = page.locator(f"#sessions details[data-session='{empty}']")
    strength.locator("summary").click()
    strength.locator(".detail .no-sets").wait_for(timeout=10_000)
    assert strength.locator(".detail .no-sets").inner_text() == "No sets."
    bands = item.locator(".detail .hr-bands li")
    expected = {int(bpm) // 10 * 10 for bpm in histogram}
    assert {int(b) for b in bands.evaluate_all("(els) => els.map((e) => e.dataset.band)")} \
        == expected
    total = sum(histogram.values()) / 60
    shown = sum(float(t.split()[0]) for t in
                item.locator(".detail .hr-bands .band-time").all_inner_texts())
    assert abs(shown - total) <= len(expected)  # each band rounded to the minute
    if width < 600:
        assert_fits_a_phone(page)
    page.context.close()
    assert problems == []
