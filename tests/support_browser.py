"""Browser tests' fixtures: headless Chromium (Debian's, driven by Playwright), the real
service on the demo history, pages that refuse requests outside the service and fail their
test on a console error, and the checks every phone page passes.

Import the fixtures into a test module (``from support_browser import browser, ...``): they
live here, not in a ``conftest.py``, because other test modules import ``conftest``, meaning
the one in ``tests/``, and a second module of that name would shadow it.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

from bench.dashboard_screenshot import DemoService, demo_service

CHROMIUM = Path(os.environ.get("TRAINLEDGER_CHROMIUM", "/usr/bin/chromium"))


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")  # not session: Playwright's sync API keeps an asyncio loop
def browser() -> Iterator[Any]:  # running until it stops, and later asyncio.run() calls fail
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium chromium-driver")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed: pip install -e '.[dev]'")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=["--no-sandbox"])
        yield chromium
        chromium.close()


@contextmanager
def store_url(store: str) -> Iterator[str | None]:
    """None for SQLite; for ``postgres`` the URL of a fresh schema, dropped afterwards."""
    if store == "sqlite":
        yield None
        return
    from conftest import PG_URL, drop_schema, require_postgres  # tests/conftest.py
    require_postgres()
    schema = f"tl_browser_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{PG_URL}?schema={schema}"
    finally:
        drop_schema(schema)


@pytest.fixture(scope="module")
def service(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoService]:
    """The demo service, on SQLite; a test picks the store with ``ON_STORES``."""
    with store_url(getattr(request, "param", "sqlite")) as url, \
            demo_service(tmp_path_factory.mktemp("dashboard"), url) as svc:
        yield svc


#: A flow at both widths on SQLite, and at phone width on a PostgreSQL-backed service
#: (``width``, ``service``: the store).
ON_STORES = pytest.mark.parametrize(("service", "width"), [
    ("sqlite", 375), ("sqlite", 1280), ("postgres", 375)], indirect=["service"])


OpenPage = Callable[..., Any]


@pytest.fixture
def open_page(browser: Any, service: DemoService) -> Iterator[OpenPage]:
    """``open_page(path, token, width=1280, height=900, allow=None, **context_options)``: a
    page in a fresh browser context, signed in with the token unless it is None."""
    contexts: list[Any] = []
    problems: list[str] = []

    def open_(path: str, token: str | None, width: int = 1280, height: int = 900,
              allow: str | None = None, **options: Any) -> Any:
        """``allow``: a regular expression of console errors the test expects."""
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        return watched_page(context, service.url, path, token, problems, allow)

    yield open_
    for context in contexts:
        context.close()
    assert problems == [], "\n".join(problems)


def view(svc: DemoService, name: str, token: str | None = None, query: str = "") -> Any:
    """A view of the demo athlete; ``query``: a page's query string (``?from=...``)."""
    response = httpx.get(f"{svc.url}/athletes/{svc.athlete_id}/views/{name}{query}",
                         headers={"Authorization": f"Bearer {token or svc.athlete_token}"})
    response.raise_for_status()
    return response.json()


def api(svc: DemoService, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, svc.url + path, timeout=10,
                             headers={"Authorization": f"Bearer {svc.admin_token}"}, **kwargs)
    response.raise_for_status()
    return response.json()




#: Every visible control smaller than 44 × 44 px (WCAG 2.5.5), described; a checkbox or a
#: radio button counts by its ``label.choice``, the tap target.
SMALL_TARGETS_JS = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]):not(label.choice > input), select, summary, ' +
    'textarea, label.choice')]
  .filter((e) => !e.classList.contains('skip') && e.getClientRects().length)
  .map((e) => [e, e.getBoundingClientRect()])
  .filter(([, r]) => r.width > 0 && (r.height < 44 || r.width < 44))
  .map(([e, r]) => `${e.tagName.toLowerCase()}#${e.id} "${(e.textContent || '').trim()
    .slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`)"""


def assert_fits_a_phone(page: Any, width: int = 375) -> None:
    """No horizontal scroll, and every visible control a tap target of at least 44 px."""
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= width, f"scrolls sideways: {scroll} px wide"
    small = page.evaluate(SMALL_TARGETS_JS)
    assert small == [], f"tap targets under 44 px: {small}"


@pytest.fixture
def fresh_demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DemoService]:
    """A demo service of the test's own, for flows that change the demo's current week
    (SQLite; ``FRESH_ON_STORES`` picks the store)."""
    with store_url(getattr(request, "param", "sqlite")) as url, \
            demo_service(tmp_path, url) as svc:
        yield svc


FRESH_ON_STORES = pytest.mark.parametrize(("fresh_demo", "width"), [
    ("sqlite", 375), ("sqlite", 1280), ("postgres", 375)], indirect=["fresh_demo"])


def watched_page(context: Any, url: str, path: str, token: str | None, problems: list[str],
                 allow: str | None = None) -> Any:
    """A page of ``context`` at ``url + path``, signed in with ``token`` unless it is None.
    Into ``problems``: a request anywhere but ``url`` (refused), an uncaught error, a console
    error unless ``allow`` (a regular expression) matches it."""
    def local_only(route: Any) -> None:
        if route.request.url.startswith(url):
            route.continue_()
        else:
            problems.append(f"request outside the service: {route.request.url}")
            route.abort()

    def console(message: Any) -> None:
        if message.type == "error" and not (allow and re.search(allow, message.text)):
            problems.append(f"console {message.type}: {message.text}")

    context.route("**/*", local_only)
    page = context.new_page()
    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.goto(url + path)
    if token is not None:
        page.fill("#token", token)
        page.click("#signin-form button[type=submit]")
    return page


def open_fresh(browser: Any, svc: DemoService, path: str, token: str | None, width: int,
               problems: list[str], allow: str | None = None) -> Any:
    """A page on ``svc`` (not the module's service) in a context of its own, as ``open_page``
    opens them (:func:`watched_page`)."""
    phone = width < 600
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  has_touch=phone, is_mobile=phone)
    return watched_page(context, svc.url, path, token, problems, allow)
