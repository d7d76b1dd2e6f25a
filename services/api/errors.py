"""One place that turns every failure into a clear HTTP answer (never a stack trace)."""

from __future__ import annotations

import json
import logging
from typing import Any

from eventsourcing.persistence import OperationalError, PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.domain.errors import (
    DomainError,
    InvalidValue,
    NotFound,
    OverQuota,
    RequestKeyReused,
    StateConflict,
)

log = logging.getLogger("trainledger.api")

STATUS = {NotFound: 404, StateConflict: 409, InvalidValue: 422, RequestKeyReused: 422,
          OverQuota: 413}


def error_body(message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"detail": message, "errors": errors or []}


class FieldError(BaseModel):
    field: str | None
    message: str


class ErrorOut(BaseModel):
    """Every refusal: ``detail`` in words; ``errors`` names the fields at fault (absent from
    refusals about the request as a whole: 401, 403, 404, 413)."""

    detail: str
    errors: list[FieldError] = []


#: The refusals any operation may answer, documented on every operation (see app.py), so that
#: the OpenAPI schema lists each status code the API really sends (checked by tests/fuzz).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Malformed request: JSON, Idempotency-Key"},
    401: {"model": ErrorOut, "description": "Missing, invalid or revoked bearer token"},
    403: {"model": ErrorOut, "description": "The caller's role may not do this"},
    404: {"model": ErrorOut, "description": "No such resource, or not the caller's to see"},
    409: {"model": ErrorOut, "description": "Conflicts with the current state"},
    413: {"model": ErrorOut, "description": "Request body too large, or over the storage quota"},
    422: {"model": ErrorOut, "description": "Invalid values; `errors` names each field"},
    429: {"model": ErrorOut, "description": "Too many writes with this token; see Retry-After"},
    503: {"model": ErrorOut, "description": "Event store unavailable; nothing recorded, retry"},
}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    field = ""
    for p in parts:
        field += f"[{p}]" if p.isdigit() else (f".{p}" if field else p)
    return field or "body"


async def on_domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
    message = f"{exc.field}: {exc.message}" if exc.field else exc.message
    errors = [{"field": exc.field, "message": exc.message}] if exc.field else []
    return JSONResponse(error_body(message, errors), status_code=status)


async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        reason = raw[0].get("ctx", {}).get("error", "invalid JSON")
        return JSONResponse(error_body(f"malformed JSON: {reason}"), status_code=400)
    errors = [
        {"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")} for e in raw
    ]
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return JSONResponse(error_body(message, errors), status_code=422)


async def on_store_unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("event store unavailable: %s", exc)
    return JSONResponse(
        error_body("the event store is unavailable; nothing was recorded, retry later"),
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse(error_body("internal error; nothing was recorded"), status_code=500)


class JsonTooLarge:
    """Answers every 413 with an :class:`ErrorOut` body. (Starlette's body limit answers
    plain text "Content Too Large" to a request whose Content-Length is over the limit, and
    JSON without a reason to one that streams past it.) Wraps the whole middleware stack:
    Starlette sends its plain-text 413 from outside the app's own middleware.  A 413 that is
    already an :class:`ErrorOut` (the storage quota) is passed on as it is."""

    def __init__(self, app: ASGIApp, detail: str) -> None:
        self.app = app
        self.detail = detail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def send_json(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 413:
                held.append(message)
            elif not held:
                await send(message)
            elif message["type"] == "http.response.body":
                held.append(message)
                if not message.get("more_body"):
                    await self._answer(held, scope, receive, send)

        await self.app(scope, receive, send_json)

    async def _answer(self, held: list[Message], scope: Scope, receive: Receive,
                      send: Send) -> None:
        body = b"".join(m.get("body", b"") for m in held[1:])
        try:
            ours = "errors" in json.loads(body)
        except (ValueError, TypeError):
            ours = False
        if ours:
            for message in held:
                await send(message)
        else:
            await JSONResponse(error_body(self.detail), status_code=413)(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(OperationalError, on_store_unavailable)
    app.add_exception_handler(PersistenceError, on_unexpected)
