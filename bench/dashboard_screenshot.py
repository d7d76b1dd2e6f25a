"""Screenshots of every page on the demo history, at desktop and phone width.

    python -m bench.dashboard_screenshot OUT.png [--chromium /usr/bin/chromium]

Seeds the 12-week demo into a temporary SQLite store, serves the real app (with the
in-process projection feed, as ``trainledger serve`` does) on a free loopback port, signs in
with the demo athlete's token in headless Chromium (Playwright, no browser download: the
system's Chromium) and writes, full page, 1280 px wide and (``-phone``) 375 px wide:
``OUT.png``/``OUT-phone.png`` (the dashboard), ``OUT-week.png``/``OUT-week-phone.png``
(this week), ``OUT-log.png``/``OUT-log-phone.png`` (the logging page with a session
started and one set logged), ``OUT-devices.png``/``OUT-devices-phone.png`` (devices, with
a sign-in link and its QR code) and ``OUT-sign-in.png``/``OUT-sign-in-phone.png`` (the
sign-in page opened without a link).  Requests to anywhere but the local service are refused, so
the shots also show that the pages need no CDN.  The PNGs are for looking at; do not
commit them.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from services.api.app import create_app
from services.config import Settings
from services.demo import seed_demo
from services.runtime import Runtime, open_runtime
from services.workers import Workers

ADMIN_TOKEN = "tla_screenshot-admin-token"
CHROMIUM = "/usr/bin/chromium"


@dataclass
class DemoService:
    url: str
    runtime: Runtime
    athlete_id: str
    athlete_token: str
    admin_token: str


@contextmanager
def demo_service(data_dir: Path, database_url: str | None = None) -> Iterator[DemoService]:
    """The real app on the demo history, on a free loopback port, until the block ends
    (SQLite in ``data_dir``, or the PostgreSQL database at ``database_url``)."""
    rt = open_runtime(Settings(data_dir=data_dir, admin_token=ADMIN_TOKEN,
                               database_url=database_url))
    workers: Workers | None = None
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    try:
        demo = seed_demo(rt.app)
        _, token = rt.tokens.issue("athlete", demo.athlete_id, "dashboard screenshot")
        rt.feed.catch_up_all()
        workers = Workers(rt, relay=False).start()  # as `trainledger serve`: uploads applied
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(rt), log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                  name="dashboard-server", daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the service did not start")
            time.sleep(0.02)
        yield DemoService(f"http://127.0.0.1:{port}", rt, demo.athlete_id, token, ADMIN_TOKEN)
    finally:
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=10)
        if workers is not None:
            workers.stop()
        rt.close()


def phone_path(out: Path, suffix: str) -> Path:
    return out.with_name(f"{out.stem}-{suffix}{out.suffix or '.png'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="PNG path (desktop); -phone is added for 375 px")
    parser.add_argument("--chromium", default=CHROMIUM, help="Chromium executable")
    args = parser.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium} (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import Page, Route, sync_playwright

    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, demo_service(Path(tmp)) as svc, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, headless=True,
                                     args=["--no-sandbox"])

        def local_only(route: Route) -> None:
            if route.request.url.startswith(svc.url):
                route.continue_()
            else:
                route.abort()

        def signed_in(path: str, width: int, height: int) -> Page:
            phone = width < 600
            context = browser.new_context(viewport={"width": width, "height": height},
                                          device_scale_factor=1, has_touch=phone,
                                          is_mobile=phone)
            context.route("**/*", local_only)
            page = context.new_page()
            page.goto(svc.url + path)
            if path != "/sign-in":  # that page signs in by link, not with a token
                page.fill("#token", svc.athlete_token)
                page.click("#signin-form button[type=submit]")
            return page

        def dashboard(page: Page) -> None:
            page.wait_for_function("() => window.trainledgerDashboard && "
                                   "window.trainledgerDashboard.refreshes > 0", timeout=20_000)

        def week(page: Page) -> None:
            page.wait_for_function("() => window.trainledgerWeek && "
                                   "window.trainledgerWeek.loads > 0", timeout=20_000)

        def log(page: Page) -> None:
            page.click("#start")
            page.fill("#exercise-q", "back squat")
            page.click("#exercise-results button[data-exercise='squat.back_squats']")
            page.click("#log-set")
            page.wait_for_selector("#sets li")

        def devices(page: Page) -> None:
            page.click("#issue-link")
            page.wait_for_selector("#link:not([hidden])")

        def sign_in(page: Page) -> None:  # no link in the address: it says how to get one
            page.wait_for_selector("#link-problem:not([hidden])")

        pages = [("/", "", dashboard), ("/week", "week", week), ("/log", "log", log),
                 ("/devices", "devices", devices), ("/sign-in", "sign-in", sign_in)]
        for path, name, ready in pages:
            for width, height, suffix in [(1280, 900, ""), (375, 812, "phone")]:
                page = signed_in(path, width, height)
                ready(page)
                page.wait_for_timeout(300)  # let the layout settle after the first draw
                shot = phone_path(out, "-".join(x for x in (name, suffix) if x)) \
                    if name or suffix else out
                page.screenshot(path=str(shot), full_page=True)
                page.context.close()
                print(f"wrote {shot} ({width} px wide)")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
