"""The FastAPI application: routers, error handling, body limit, health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.api import (
    errors,
    routes_access,
    routes_athletes,
    routes_exercises,
    routes_goals,
    routes_observations,
    routes_plans,
    routes_sessions,
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


def create_app(runtime: Runtime, *, close_runtime: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if close_runtime:
            runtime.close()

    app = FastAPI(
        title="trainledger",
        version="0.1.0",
        description=DESCRIPTION,
        max_body_size=MAX_BODY,
        lifespan=lifespan,
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
    ):
        app.include_router(module.router)

    @app.get("/health", tags=["meta"], summary="Liveness and which event store is in use")
    def health() -> dict[str, str]:
        return {"status": "ok", "store": runtime.settings.backend}

    return app
