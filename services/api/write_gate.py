"""Writes and uploads: the bearer token is checked, and the token's rate limit taken, before
the request body is read.

FastAPI reads (and parses) a body before it resolves the dependencies that authenticate:
a 60 MiB upload without a token was read in full to be answered 401.  This middleware
answers 401 (no or a bad token) and 429 (over the rate limit) from the headers alone.
The admin's token is not rate-limited (it creates accounts and may seed data in bulk).
"""

from __future__ import annotations

import math
import threading
import time

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from services.api.errors import error_body
from services.tokens import Principal

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: writes without a bearer token: opening a sign-in link (its secret is the credential)
PUBLIC_WRITES = frozenset({"/sign-in"})


class TokenBuckets:
    """A token bucket per key, in this process: ``burst`` requests at once, refilled at
    ``per_minute``."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (level, at)
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"{self.burst:g} at once, then {self.rate * 60:g} a minute"

    def take(self, key: str) -> float:
        """Take one request's worth; 0 when allowed, else the seconds until it would be."""
        now = time.monotonic()
        with self._lock:
            level, at = self._buckets.get(key, (self.burst, now))
            level = min(self.burst, level + (now - at) * self.rate)
            if level < 1.0:
                self._buckets[key] = (level, now)
                return (1.0 - level) / self.rate
            self._buckets[key] = (level - 1.0, now)
            if len(self._buckets) > 100_000:  # refilled buckets carry no state: forget them
                self._buckets = {k: (lv, t) for k, (lv, t) in self._buckets.items()
                                 if lv + (now - t) * self.rate < self.burst}
            return 0.0


def bearer_token(authorization: str | None) -> str | None:
    scheme, credentials = get_authorization_scheme_param(authorization)
    return credentials if scheme.lower() == "bearer" and credentials else None


class WriteGate:
    """ASGI middleware; ``owner`` is the FastAPI app (``state.runtime``: tokens, settings)."""

    def __init__(self, app: ASGIApp, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner
        self._buckets: TokenBuckets | None = None

    def buckets(self) -> TokenBuckets:
        if self._buckets is None:
            settings = self.owner.state.runtime.settings
            self._buckets = TokenBuckets(settings.write_rate, settings.write_burst)
        return self._buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] not in WRITE_METHODS
                or scope["path"] in PUBLIC_WRITES):
            await self.app(scope, receive, send)
            return
        refusal = await self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await refusal(scope, receive, send)

    async def _refusal(self, scope: Scope) -> JSONResponse | None:
        token = bearer_token(Headers(scope=scope).get("authorization"))
        if token is None:
            return _unauthorized("missing bearer token")
        tokens = self.owner.state.runtime.tokens
        try:
            principal: Principal | None = tokens.cached(token) or await run_in_threadpool(
                tokens.authenticate, token)
        except Exception:  # the store is down: the route answers it (503)
            return None
        if principal is None:
            return _unauthorized("invalid or revoked token")
        if principal.role == "admin":
            return None
        buckets = self.buckets()
        wait = buckets.take(principal.token_id)
        if not wait:
            return None
        seconds = max(1, math.ceil(wait))
        return JSONResponse(
            error_body(f"too many writes with this token: at most {buckets.describe()}; "
                       f"retry in {seconds} s"),
            status_code=429, headers={"Retry-After": str(seconds)})


def _unauthorized(detail: str) -> JSONResponse:
    return JSONResponse(error_body(detail), status_code=401,
                        headers={"WWW-Authenticate": "Bearer"})
