# ruff: noqa: F811  (the fixtures come from support_browser, by name)
"""The dashboard and the logging page in headless Chromium, against the real service.

Charts are checked through uPlot itself (``window.trainledgerDashboard``: each chart's data,
compared with the view it came from, and the coloured pixels drawn in its plotting area), not
by the presence of an element.  The live-update test logs a set on the phone page and waits
for the dashboard, open in another tab and never reloaded, to chart it.

The service is ``bench.dashboard_screenshot.demo_service``: a SQLite store in a temporary
directory seeded with ``services.demo.seed_demo``, the app served by uvicorn on a free
loopback port, with the in-process projection feed that ``trainledger serve`` runs.  The
browser is the system's Chromium (``/usr/bin/chromium``, Debian's ``chromium`` package;
``TRAINLEDGER_CHROMIUM`` overrides) driven by Playwright, which downloads no browser.
Without Chromium or Playwright these tests are skipped, except under ``CI=true``, where they
fail.  Every page refuses requests to anywhere but the service (no CDN) and fails its test on
a console error or an uncaught exception (a Content-Security-Policy violation is one).
(The fixtures live in ``support_browser``.)
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support_browser import OpenPage, api, browser, open_page, service, view  # noqa: F401

from bench.dashboard_screenshot import DemoService

SQUAT = "squat.back_squats"

#: For every chart: its series labels, the length of its x data, how many values each series
#: holds, its bands, and how many strongly coloured pixels its plotting area has.
CHARTS_JS = """() => {
  const d = window.trainledgerDashboard;
  const ink = (u) => {
    const { left, top, width, height } = u.bbox;
    const px = u.ctx.getImageData(left, top, width, height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) {
      const [r, g, b, a] = [px[i], px[i + 1], px[i + 2], px[i + 3]];
      if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
    }
    return n;
  };
  const describe = (u) => ({
    labels: u.series.map((s) => s.label),
    length: u.data[0].length,
    x: u.data[0],
    columns: u.data.slice(1),
    filled: u.data.slice(1).map((c) => c.filter((v) => v !== null && v !== undefined).length),
    bands: (u.bands || []).map((b) => b.series),
    width: u.width,
    ink: ink(u),
  });
  return {
    refreshes: d.refreshes,
    charts: Object.fromEntries(Object.entries(d.charts).map(([k, u]) => [k, describe(u)])),
    goals: Object.keys(d.goalCharts).sort().map((k) => describe(d.goalCharts[k])),
  };
}"""

LOADED = "() => window.trainledgerDashboard && window.trainledgerDashboard.refreshes > 0"


def test_the_dashboard_charts_the_demo_history(open_page: OpenPage,
                                                service: DemoService) -> None:
    page = open_page("/", service.athlete_token)
    page.wait_for_function(LOADED, timeout=20_000)
    seen = page.evaluate(CHARTS_JS)
    charts = seen["charts"]
    # the page asks for the last 12 weeks: the views for the same period
    q = page.evaluate("() => window.trainledgerDashboard.query")
    assert q.startswith("?from=")
    assert set(charts) == {"fitness", "acwr", "load", "weeks", "e1rm"}
    for name, chart in [*charts.items(), *((f"goal {i}", g) for i, g in enumerate(seen["goals"]))]:
        assert chart["ink"] > 150, f"{name}: nothing drawn in the plotting area"

    fatigue = view(service, "fatigue", query=q)
    fitness = charts["fitness"]
    assert fitness["length"] == len(fatigue["series"]) >= 80  # 12 weeks of days
    assert fitness["filled"] == [len(fatigue["series"])] * 3  # CTL, ATL, TSB every day
    assert fitness["columns"][0][-1] == fatigue["today"]["ctl"]

    acwr = charts["acwr"]
    assert acwr["length"] == len(fatigue["series"])
    assert acwr["filled"][0] == sum(1 for r in fatigue["series"] if r["acwr"] is not None) > 40
    assert set(acwr["columns"][1]) == {0.8}
    assert set(acwr["columns"][2]) == {1.3}
    assert acwr["bands"] == [[3, 2]]  # the 0.8-1.3 band is filled between its edges

    load = view(service, "load", query=q)
    assert charts["load"]["columns"][0] == [d["load"] for d in load["days"]]
    assert sum(1 for d in load["days"] if d["load"] > 0) >= 40

    weeks = view(service, "execution", query=q)["weeks"]
    assert charts["weeks"]["length"] == len(weeks) >= 11  # the weeks that start in range
    assert charts["weeks"]["labels"][1:] == ["Training", "Volume / workout", "Converted"]
    assert charts["weeks"]["columns"][0] == [w["training_done"] for w in weeks]
    assert charts["weeks"]["columns"][2] == [w["converted"] for w in weeks]
    assert sum(charts["weeks"]["columns"][2]) >= 5  # the conversions from week 7 on

    lifts = [e for e in view(service, "strength", query=q)["exercises"] if e["e1rm_series"]]
    e1rm = charts["e1rm"]
    assert sorted(e1rm["labels"][1:]) == sorted(e["name"] for e in lifts)
    assert {"Back squats", "Barbell bench press", "Barbell deadlift"} <= set(e1rm["labels"])
    for lift in lifts:
        column = e1rm["columns"][e1rm["labels"].index(lift["name"]) - 1]
        assert [v for v in column if v is not None] == [p["e1rm_kg"] for p in lift["e1rm_series"]]

    goals = view(service, "goals", query=q)["goals"]
    assert len(seen["goals"]) == len(goals) == 4
    for goal, chart in zip(goals, seen["goals"], strict=True):
        assert chart["filled"][0] == len(goal["values"]), goal["title"]
        assert set(chart["columns"][1]) == {goal["target_value"]}, goal["title"]
        if goal["deadline"]:  # the chart reaches the deadline
            deadline = datetime.fromisoformat(goal["deadline"] + "T00:00:00+00:00").timestamp()
            assert max(chart["x"]) >= deadline
    projected = [c for c in seen["goals"] if c["filled"][2] == 2]
    assert projected, "no goal shows its projection"
    titles = page.locator(".goal h3").all_inner_texts()
    assert titles == [g["title"] for g in goals]

    readiness = view(service, "readiness", query=q)
    rows = page.locator("#criteria tr")
    assert rows.count() == len(readiness["criteria"]) == 5
    for i, criterion in enumerate(readiness["criteria"]):
        row = rows.nth(i)
        assert row.get_attribute("data-criterion") == criterion["name"]
        cells = row.locator("th, td").all_inner_texts()
        assert cells[0].strip(), criterion["name"]
        assert cells[2] == criterion["threshold"]
        assert cells[3] == ("– not judged" if not criterion["judged"] else
                            "✓ pass" if criterion["passed"] else "✗ fail")
        if not criterion["judged"]:  # why not, beside its name
            assert criterion["reason"] in cells[0]
        if isinstance(criterion["value"], (int, float)):
            assert f"{round(criterion['value'], 2):g}" in cells[1]
    verdict = {"ready": "Ready", "not yet": "Not yet", "back off": "Back off"}
    assert page.inner_text("#verdict") == verdict[readiness["verdict"]]
    assert page.inner_text("#verdict-line") == readiness["line"]
    recommended = page.inner_text("#recommended")
    if readiness["verdict"] != "ready":  # never "convert" beside "not yet"
        assert recommended == ""
    if readiness["recommended"] is None:  # ready, with no volume session left to convert
        assert recommended == ""
    else:
        assert recommended.startswith("Convert")

    # an athlete's token sees that athlete only
    assert page.locator("#athlete option").all_inner_texts() == ["Demo Athlete"]


def test_the_switcher_lists_what_the_token_may_read(open_page: OpenPage,
                                                    service: DemoService) -> None:
    other = api(service, "POST", "/athletes", json={"name": "Second Athlete"})["athlete"]
    page = open_page("/", service.admin_token)
    page.wait_for_function(LOADED, timeout=20_000)
    options = page.locator("#athlete option")
    names = options.all_inner_texts()
    assert {"Demo Athlete", "Second Athlete"} <= set(names)
    page.select_option("#athlete", other["athlete_id"])
    page.wait_for_function("() => document.getElementById('title').textContent === "
                           "'Second Athlete' && window.trainledgerDashboard.revision !== null",
                           timeout=20_000)
    seen = page.evaluate(CHARTS_JS)
    assert seen["charts"]["fitness"]["length"] == 0  # no history yet, and no error either
    assert page.locator("#criteria tr").count() == 5


@pytest.mark.parametrize("service", ["sqlite", "postgres"], indirect=True)
def test_a_set_logged_on_the_phone_appears_on_the_dashboard(open_page: OpenPage,
                                                             service: DemoService) -> None:
    dashboard = open_page("/", service.athlete_token)
    dashboard.wait_for_function(LOADED, timeout=20_000)
    dashboard.evaluate("() => { window.sameDocument = true; }")
    before = dashboard.evaluate(CHARTS_JS)["charts"]["e1rm"]
    squat = before["columns"][before["labels"].index("Back squats") - 1]
    assert max(v for v in squat if v is not None) < 200

    phone = open_page("/log", service.athlete_token, 375, 812, has_touch=True, is_mobile=True)
    phone.wait_for_selector("#pick:not([hidden])")
    phone.click("#start")
    phone.wait_for_selector("#active:not([hidden])")
    phone.fill("#exercise-q", "back squat")
    phone.click(f"#exercise-results button[data-exercise='{SQUAT}']")
    assert phone.inner_text("#exercise-chosen") == "Exercise: Back squats"

    # the last session's numbers for the exercise, and the form filled from them
    sessions = api(service, "GET", f"/athletes/{service.athlete_id}/sessions?limit=50")
    last = next(s for s in sessions if s["status"] == "ended"
                and any(x["exercise_id"] == SQUAT for x in s["sets"]))
    day = datetime.fromisoformat(last["started_at"]).astimezone(ZoneInfo(last["timezone"]))
    assert phone.inner_text("#last-time").startswith(
        f"Last time ({day:%a} {day.day} {day:%b}):")  # as every page writes a day: Wed 2 Dec
    working = next(x for x in last["sets"] if x["exercise_id"] == SQUAT
                   and x["set_type"] == "working")
    assert phone.input_value("#reps") == str(working["reps"])

    phone.fill("#reps", "3")
    phone.fill("#load", "200")
    phone.fill("#rpe", "9")
    phone.click("#log-set")
    phone.wait_for_selector("#sets li")
    assert phone.inner_text("#sets li .what") == "Back squats 3 × 200 kg @ RPE 9"
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 375

    # 200 kg x 3 at RPE 9 is an e1RM of 226.7 kg today: the dashboard charts it by itself
    dashboard.wait_for_function("""() => {
      const u = window.trainledgerDashboard.charts.e1rm;
      const i = u.series.findIndex((s) => s.label === "Back squats");
      return u.data[i].some((v) => v !== null && v > 220);
    }""", timeout=20_000)
    assert dashboard.evaluate("() => window.sameDocument") is True  # no reload

    phone.fill("#session-rpe", "8")
    phone.click("#end")
    phone.wait_for_selector("#summary:not([hidden])")
    assert phone.inner_text("#message").startswith("Session ended: 1 sets")
    ended = api(service, "GET", f"/athletes/{service.athlete_id}/sessions?limit=1")[0]
    assert (ended["status"], ended["session_rpe"], len(ended["sets"])) == ("ended", 8, 1)


def test_the_dashboard_fits_a_phone(open_page: OpenPage, service: DemoService) -> None:
    page = open_page("/", service.athlete_token, 375, 812, has_touch=True, is_mobile=True)
    page.wait_for_function(LOADED, timeout=20_000)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    seen = page.evaluate(CHARTS_JS)
    for name, chart in seen["charts"].items():
        assert chart["width"] <= 375 - 24, name  # inside the card, beside its padding
        assert chart["ink"] > 100, name


def test_a_wrong_token_is_refused(open_page: OpenPage, service: DemoService) -> None:
    page = open_page("/", None, allow="status of 401")  # the browser logs the refusal
    page.fill("#token", "tlk_not-a-token")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#signin-error:has-text('not accepted')")
    assert page.is_hidden("#app")
    assert page.evaluate("() => JSON.stringify(localStorage)").find("tlk_not-a-token") < 0
    assert page.evaluate("() => localStorage.getItem('trainledger.device')") is None


#: ReDoc's side menu shows a logo from its CDN, hard-coded; the page's policy refuses it
REDOC_LOGO = r"cdn\.redoc\.ly/redoc/logo-mini\.svg"


@pytest.mark.parametrize(("path", "title", "refused"), [
    ("/docs", ".swagger-ui .info .title", None), ("/redoc", ".api-info h1", REDOC_LOGO)])
def test_the_api_docs_need_no_cdn(open_page: OpenPage, path: str, title: str,
                                  refused: str | None) -> None:
    page = open_page(path, None, allow=refused)
    page.wait_for_selector(title, timeout=15_000)
    assert "trainledger" in page.inner_text(title)
