"""The FastAPI application: routers, error handling, body limit, health."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp

from services.api import (
    errors,
    routes_access,
    routes_athletes,
    routes_audit,
    routes_dashboard,
    routes_exercises,
    routes_goals,
    routes_imports,
    routes_observations,
    routes_plans,
    routes_sessions,
    routes_views,
)
from services.runtime import Runtime

MAX_BODY = 1024 * 1024  # 1 MiB: a past session with 500 sets is about 150 kB of JSON
TOO_LARGE = (f"Content Too Large: a request body may hold at most {MAX_BODY} bytes (FIT uploads: "
             f"{routes_imports.MAX_FIT_UPLOAD} bytes, {routes_imports.MAX_FIT_FILE} a file)")

DESCRIPTION = """
trainledger records every training fact as an event: sessions, sets, goals, plans and
metric observations; corrections are new events, nothing is edited in place.

Authenticate with `Authorization: Bearer <token>`. The admin token comes from
`TRAINLEDGER_ADMIN_TOKEN` or the data directory's `admin-token` file; athletes and coaches
get tokens when the admin creates them. Send an `Idempotency-Key` header on writes so that
a retried request is applied once.
"""


class _Api(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        return errors.JsonTooLarge(super().build_middleware_stack(), TOO_LARGE)


def create_app(runtime: Runtime) -> FastAPI:
    async def take_in_erasures() -> None:
        runtime.keys.refresh()  # an erasure by another process: a stat of the key file

    app = _Api(
        dependencies=[Depends(take_in_erasures)],
        title="trainledger", version="0.1.0", description=DESCRIPTION, max_body_size=MAX_BODY,
        docs_url=None,  # dashboard: /docs comes from routes_dashboard (vendored, no CDN)
        responses=errors.ERROR_RESPONSES,  # the refusals every operation may answer
    )
    app.state.runtime = runtime
    errors.install(app)
    for module in (
        routes_access,
        routes_athletes,
        routes_goals,
        routes_plans,
        routes_sessions,
        routes_observations,
        routes_exercises,
        routes_imports,
        routes_views,
        routes_audit,
    ):
        app.include_router(module.router)
    routes_dashboard.install(app)  # dashboard: pages /, /log, /static, /docs, revision route

    @app.get("/health", tags=["meta"],
             summary="Liveness, the event store in use and each view's lag (events behind)")
    def health() -> dict[str, object]:
        return {
            "status": "ok",
            "store": runtime.settings.backend,
            "delivery": "kafka" if runtime.settings.kafka_bootstrap else "in-process",
            "view_lag": runtime.view_lag(),
        }

    return app
