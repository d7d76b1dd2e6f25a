# ruff: noqa: F811  (the fixtures come from support_browser, by name)
"""A new athlete's first week, as they go, at phone (375 px) and desktop (1280 px) width: sign
in, plan the week on /week, start a planned session on /log, log a set, end it, and find it on
the dashboard and on /week.  Each page fits the phone at each step, days read the same way on
every page ("Wed 2 Dec"), and nothing says what is not so."""

from __future__ import annotations

import re
from typing import Any

import pytest
from support_browser import (  # noqa: F401
    OpenPage,
    api,
    assert_fits_a_phone,
    browser,
    open_page,
    service,
)

from bench.dashboard_screenshot import DemoService

SQUAT = "squat.back_squats"
DAY_LABEL = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2}"


def fits(page: Any, width: int) -> None:
    if width < 600:
        assert_fits_a_phone(page, width)


@pytest.mark.parametrize("width", [375, 1280])
def test_a_new_athletes_first_week(open_page: OpenPage, service: DemoService,
                                   width: int) -> None:
    token = api(service, "POST", "/athletes", json={"name": "Nia Newcomer"})["token"]
    phone = {"has_touch": True, "is_mobile": True} if width < 600 else {}
    page = open_page("/week", token, width, 900, **phone)
    page.wait_for_selector("#plan-week")
    fits(page, width)
    page.click("#plan-week")
    page.wait_for_selector("#slots li >> nth=3")
    fits(page, width)

    # /log: the planned sessions, each with its day written as on /week
    page.goto(f"{page.url.split('/week')[0]}/log")
    page.wait_for_selector("#plan-slots button.slot >> nth=0")
    labels = page.locator("#plan-slots button.slot").all_inner_texts()
    assert not any(re.search(r"\d{4}-\d{2}-\d{2}", t) for t in labels), labels
    assert any(re.search(f"planned {DAY_LABEL}$", t) for t in labels), labels
    fits(page, width)
    page.locator("#plan-slots button.slot").first.click()
    page.wait_for_selector("#active:not([hidden])")
    page.fill("#exercise-q", "back squat")
    page.click(f"#exercise-results button[data-exercise='{SQUAT}']")
    assert page.inner_text("#last-time") == "First time: no sets of it in earlier sessions."
    page.fill("#reps", "5")
    page.fill("#load", "60")
    page.fill("#rpe", "7")
    page.click("#log-set")
    page.wait_for_selector("#sets li >> nth=0")
    fits(page, width)
    page.fill("#session-rpe", "7")
    page.click("#end")
    page.wait_for_selector("#summary:not([hidden])")
    # the slot was training, but with no objective the views count it as a workout
    assert page.inner_text("#summary [data-fact=kind]") == \
        "training, without an objective: counts as a workout"
    fits(page, width)

    # the dashboard: the session with its set; no record yet, and why
    page.goto(page.url.split("/log")[0] + "/")
    page.wait_for_function("() => window.trainledgerDashboard && "
                           "window.trainledgerDashboard.refreshes > 0", timeout=20_000)
    assert "first working set (reps and load, on the Log page) sets the bar" in " ".join(
        page.inner_text("#prs-empty").split())
    item = page.locator("#sessions details.session").first
    # what was planned, then what it counts as: no bare "training" beside "workout"
    assert re.fullmatch(f"{DAY_LABEL} · strength training · planned as training\\s+workout · "
                        r"load \d+", item.locator("summary").inner_text().strip()), \
        item.locator("summary").inner_text()
    item.locator("summary").click()
    item.locator(".detail ol.sets li").first.wait_for(timeout=10_000)
    assert item.locator(".detail .no-sets").count() == 0
    fits(page, width)

    # /week: the session done
    page.goto(page.url.rstrip("/") + "/week")
    page.wait_for_selector("#executed li >> nth=0")
    assert page.is_hidden("#execution-empty")
    fits(page, width)
