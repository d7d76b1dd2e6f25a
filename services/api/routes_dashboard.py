"""The web pages: the dashboard (``/``), the week (``/week``: plan, check in, convert), the gym
logging page (``/log``), signing a device in by link (``/sign-in``) and the devices with
their sign-in links and QR codes (``/devices``), their static files
(``/static``), ``/docs`` and ``/redoc`` from a vendored Swagger UI and ReDoc, so that nothing
comes from a CDN.

The pages are plain HTML, CSS and JavaScript in ``static/`` (no build step; the markup pages
share, ``INCLUDES``, is put in when the app is made); they call the API with the bearer token
the user signs in with. They hold no data, so they are public, like ``/docs``. ``GET
/athletes/{id}/revision`` is the cheap number the dashboard polls: it changes whenever one of
the athlete's events reaches the read side, and then the dashboard re-reads the views.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from projections.base import VERSIONS
from projections.read_model import STATES, ReadModel
from services.api.security import CallerDep
from services.runtime import Runtime

STATIC = Path(__file__).parent / "static"
VENDOR = "/static/vendor"
#: path -> file in ``static/``
PAGES = {"/": "index.html", "/week": "week.html", "/log": "log.html",
         "/sign-in": "sign-in.html", "/devices": "devices.html"}
#: placeholder in a page -> the markup pages share (``static/_*.html``), put in once when
#: the app is made: the ``<head>`` boilerplate, the header, the sign-in form and the readiness
#: panel (dashboard and week)
INCLUDES = {"{{head}}": "_head.html", "{{header}}": "_header.html",
            "{{signin}}": "_signin.html", "{{readiness}}": "_readiness.html"}
#: The pages load scripts and styles from this origin only and talk only to it.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

#: ``/redoc``: ReDoc injects its styles and runs a worker from a blob; its side menu shows a
#: logo from cdn.redoc.ly (hard-coded in the bundle), which this policy keeps from loading.
REDOC_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
}

router = APIRouter(tags=["views"])


class Revision(BaseModel):
    athlete_id: str
    revision: int


@router.get(
    "/athletes/{athlete_id}/revision",
    response_model=Revision,
    summary="A number that changes with each of the athlete's events the views take in",
    description="Cheap to poll: when it changes, the athlete's views have new data. It counts "
    "the athlete's events (profile, sessions, goals, plans, observations) that the stored "
    "views have applied, so it may trail a write by the projection's lag (`GET /health`).",
)
def revision(athlete_id: str, caller: CallerDep) -> Revision:
    caller.check_read(athlete_id)
    return Revision(athlete_id=athlete_id, revision=revision_of(caller.runtime, athlete_id))


def revision_of(rt: Runtime, athlete_id: str) -> int:
    """The sum of the versions of the athlete's aggregates the read model has applied."""
    db = rt.tables
    # the versions of the athlete's aggregates (the athlete's own, and the sessions, goals,
    # plans and observations it owns) as the stored analytic views last applied them
    rows = db.query(
        f"SELECT COALESCE(SUM(version), 0) AS revision FROM {db.name(VERSIONS)} "
        f"WHERE view = %s AND aggregate_id IN "
        f"(SELECT entity_id FROM {db.name(STATES)} WHERE athlete_id = %s)",
        (ReadModel.name, athlete_id),
    )
    return int(rows[0]["revision"]) if rows else 0


class _StaticFiles(StaticFiles):
    """Static files that the browser revalidates (ETag) before use, so that an upgrade of
    the service never runs a page against stale scripts."""

    def file_response(self, full_path: PathLike, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def render_page(path: str, filename: str) -> str:
    """The page at ``path`` with the shared header and sign-in put in, its own link in the
    menu marked as the current page."""
    html = (STATIC / filename).read_text(encoding="utf-8")
    for placeholder, part in INCLUDES.items():
        html = html.replace(placeholder, (STATIC / part).read_text(encoding="utf-8").rstrip())
    return html.replace(f'<li><a href="{path}">', f'<li><a href="{path}" aria-current="page">',
                        1)


def _page(path: str, filename: str) -> Callable[[Request], Awaitable[Response]]:
    html = render_page(path, filename)

    async def page(request: Request) -> Response:
        return HTMLResponse(html, headers=PAGE_HEADERS)

    return page


def install(app: FastAPI) -> None:
    """Add the pages, the static files, ``/docs`` and ``/redoc`` (create the app with
    ``docs_url=None, redoc_url=None``) and the revision route."""
    app.include_router(router)
    for path, filename in PAGES.items():
        app.add_route(path, _page(path, filename), methods=["GET"], include_in_schema=False)
    app.mount("/static", _StaticFiles(directory=STATIC), name="static")

    oauth2_redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + (app.openapi_url or "/openapi.json"),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{VENDOR}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{VENDOR}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{root}/static/icon.svg",
            oauth2_redirect_url=root + oauth2_redirect,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    async def docs_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = get_redoc_html(
            openapi_url=root + (app.openapi_url or "/openapi.json"),
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{VENDOR}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{root}/static/icon.svg",
            with_google_fonts=False,
        )
        page.headers.update(REDOC_HEADERS)
        return page

    app.add_route("/docs", docs, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
    app.add_route(oauth2_redirect, docs_redirect, include_in_schema=False)
