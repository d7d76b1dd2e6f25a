# ruff: noqa: F811  (the fixtures come from support_browser, by name)
"""The header every page shares, at phone (375 px) and desktop (1280 px) width: the menu's five
links on one line, all in view and each a 44 px tap target, the athlete's name whole, and no
page wider than the screen."""

from __future__ import annotations

import pytest
from support_browser import OpenPage, api, browser, open_page, service  # noqa: F401

from bench.dashboard_screenshot import DemoService

#: the menu's links (their top edges and extents), the header's height, the page's width
HEADER_JS = """() => {
  const links = [...document.querySelectorAll('header.top nav a')]
    .map((a) => a.getBoundingClientRect());
  return {
    tops: [...new Set(links.map((r) => Math.round(r.top)))],
    left: Math.min(...links.map((r) => r.left)),
    right: Math.max(...links.map((r) => r.right)),
    smallest: Math.min(...links.flatMap((r) => [r.width, r.height])),
    header: document.querySelector('header.top').getBoundingClientRect().height,
    scroll: document.scrollingElement.scrollWidth,
    athlete: (() => {  // the chosen athlete's name, and the width of the control showing it
      const select = document.getElementById('athlete');
      const probe = document.createElement('span');
      probe.style.font = getComputedStyle(select).font;
      probe.style.whiteSpace = 'pre';
      probe.textContent = select.options[select.selectedIndex].text;
      document.body.append(probe);
      const text = probe.getBoundingClientRect().width;
      probe.remove();
      return { text, box: select.getBoundingClientRect().width };
    })(),
  };
}"""


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("path", ["/", "/week", "/log", "/devices"])
def test_the_menu_is_one_line_that_fits_the_screen(open_page: OpenPage, service: DemoService,
                                                    path: str, width: int) -> None:
    phone = width < 600
    token = api(service, "POST", "/athletes", json={"name": "Nia Newcomer-Obi"})["token"]
    page = open_page(path, token, width=width, has_touch=phone, is_mobile=phone)
    page.wait_for_selector("#who:not([hidden])")
    seen = page.evaluate(HEADER_JS)
    assert len(seen["tops"]) == 1, f"the menu wraps: link tops at {seen['tops']}"
    assert seen["left"] >= 0, f"a menu link is out of view: {seen}"
    assert seen["right"] <= width, f"a menu link is out of view: {seen}"
    assert seen["smallest"] >= 44, f"a menu link is under 44 px: {seen}"
    athlete = seen["athlete"]  # the whole name in view, beside the select's arrow and padding
    assert athlete["text"] + 36 <= athlete["box"], f"the athlete's name is cut: {athlete}"
    assert seen["scroll"] <= width, f"scrolls sideways: {seen['scroll']} px wide"
    # one row of 44 px targets on a desktop; on a phone the brand and the athlete, then the menu
    assert seen["header"] <= (2 if phone else 1) * 48 + 12, seen
