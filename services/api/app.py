"""The FastAPI application: routers, error handling, body limit, write gate, health."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp

from projections import dead_letters
from services.api import (
    errors,
    routes_access,
    routes_archives,
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
from services.api.security import bearer, principal_of
from services.api.write_gate import WriteGate
from services.runtime import Runtime

PARKED_SHOWN = 20  # parked events listed by /health (all: trainledger dead-letters list)
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
        """Built on the first request.  Outermost: a request naming another host (DNS
        rebinding, a spoofed ``Host``) is answered 400 before anything else runs; then the
        write gate (authentication and rate limit before a write's body is read)."""
        stack = errors.JsonTooLarge(WriteGate(super().build_middleware_stack(), self),
                                    TOO_LARGE)
        hosts = list(self.state.runtime.settings.allowed_hosts)
        return TrustedHostMiddleware(stack, allowed_hosts=hosts)


def create_app(runtime: Runtime) -> FastAPI:
    async def take_in_erasures() -> None:
        runtime.keys.refresh()  # an erasure by another process: a stat of the key file

    app = _Api(
        dependencies=[Depends(take_in_erasures)],
        title="trainledger", version="0.1.0", description=DESCRIPTION, max_body_size=MAX_BODY,
        docs_url=None, redoc_url=None,  # dashboard: /docs and /redoc from vendored files
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
        routes_archives,
        routes_views,
        routes_audit,
    ):
        app.include_router(module.router)
    app.include_router(routes_access.sign_in_router, responses={})  # no token: no 401/403
    routes_dashboard.install(app)  # pages /, /log, /static, /docs, /redoc, revision route

    @app.get("/health", tags=["meta"],
             summary="Liveness; with a token, each view's lag (events behind) and the "
                     "events views parked because they failed on them; with the admin's, "
                     "also the event store and delivery in use, and the parked events")
    async def health(credentials: Annotated[HTTPAuthorizationCredentials | None,
                                            Depends(bearer)]) -> dict[str, object]:
        answer: dict[str, object] = {"status": "ok"}
        principal = await principal_of(runtime, credentials)
        if principal is None:  # a probe: no token needed, nothing told
            return answer
        answer["view_lag"] = await run_in_threadpool(runtime.view_lag)
        answer["parked"] = await run_in_threadpool(dead_letters.counts, runtime.tables)
        if principal.role == "admin":
            answer["store"] = runtime.settings.backend
            answer["delivery"] = "kafka" if runtime.settings.kafka_bootstrap else "in-process"
            parked = await run_in_threadpool(dead_letters.listing, runtime.tables, None, None,
                                             PARKED_SHOWN)
            answer["parked_events"] = [asdict(p) for p in parked]
        return answer

    return app
