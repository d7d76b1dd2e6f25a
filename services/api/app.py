"""The FastAPI application: routers, error handling, body limit, health."""

from __future__ import annotations

from fastapi import FastAPI

from services.api import (
    errors,
    routes_access,
    routes_athletes,
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

DESCRIPTION = """
trainledger records every training fact as an event: sessions, sets, goals, plans and
metric observations; corrections are new events, nothing is edited in place.

Authenticate with `Authorization: Bearer <token>`. The admin token comes from
`TRAINLEDGER_ADMIN_TOKEN` or the data directory's `admin-token` file; athletes and coaches
get tokens when the admin creates them. Send an `Idempotency-Key` header on writes so that
a retried request is applied once.
"""


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="trainledger", version="0.1.0", description=DESCRIPTION, max_body_size=MAX_BODY
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
    ):
        app.include_router(module.router)

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
