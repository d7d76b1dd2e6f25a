"""Browser test support: headless Chromium (Playwright) against the demo service.

The service is ``bench.dashboard_screenshot.demo_service``: a SQLite store in a temporary
directory seeded with ``services.demo.seed_demo``, the app served by uvicorn on a free
loopback port.  The browser is the system's Chromium (``/usr/bin/chromium``;
``TRAINLEDGER_CHROMIUM`` overrides) driven by Playwright, which downloads no browser.
Without Chromium or Playwright the tests are skipped, except under ``CI=true``, where they
fail.  Every page refuses requests to anywhere but the service (no CDN) and fails its test on
a console error or an uncaught exception.  A test module loads the fixtures with
``pytest_plugins = ["support_browser"]``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

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


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoService]:
    with demo_service(tmp_path_factory.mktemp("dashboard")) as svc:
        yield svc


OpenPage = Callable[..., Any]


@pytest.fixture
def open_page(browser: Any, service: DemoService) -> Iterator[OpenPage]:
    """``open_page(path, token, width=1280, height=900, allow=None, **context_options)``: a
    page in a fresh browser context, signed in with the token unless it is None."""
    contexts: list[Any] = []
    problems: list[str] = []

    def local_only(route: Any) -> None:
        if route.request.url.startswith(service.url):
            route.continue_()
        else:
            problems.append(f"request outside the service: {route.request.url}")
            route.abort()

    def open_(path: str, token: str | None, width: int = 1280, height: int = 900,
              allow: str | None = None, **options: Any) -> Any:
        """``allow``: a regular expression of console errors the test expects."""
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        context.route("**/*", local_only)
        page = context.new_page()

        def console(message: Any) -> None:
            if message.type == "error" and not (allow and re.search(allow, message.text)):
                problems.append(f"console {message.type}: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
        page.goto(service.url + path)
        if token is not None:
            page.fill("#token", token)
            page.click("#signin-form button[type=submit]")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert problems == [], "\n".join(problems)
