"""Helpers for the limits tests: a served store with its intake, upload calls, raw table rows
and an ASGI call that counts how much of a request body the server read."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from conftest import bearer
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.config import Settings
from services.runtime import Runtime, open_runtime
from services.workers import Workers

MIB = 1024 * 1024


@contextmanager
def served(settings: Settings, intake: bool = True) -> Iterator[tuple[Runtime, TestClient]]:
    """A runtime for ``settings`` with its API and (``intake``) the in-process intake."""
    rt = open_runtime(settings)
    workers = Workers(rt, relay=False, views=[], log_feed=False).start() if intake else None
    try:
        with TestClient(create_app(rt), raise_server_exceptions=False) as client:
            yield rt, client
    finally:
        if workers is not None:
            workers.stop()
        rt.close()


def upload(client: TestClient, athlete_id: str, token: str, *files: tuple[str, bytes],
           wait: float = 30) -> httpx.Response:
    return client.post(f"/athletes/{athlete_id}/imports/fit", params={"wait": wait},
                       files=[("files", f) for f in files], headers=bearer(token))


def import_rows(rt: Runtime, athlete_id: str) -> list[dict[str, Any]]:
    """The athlete's rows of ``tl_imports``, with the stored type and size of the payload."""
    kind = "pg_typeof(payload)::text" if rt.tables.is_postgres else "typeof(payload)"
    return rt.tables.query(
        f"SELECT import_id, status, {kind} AS stored_as, LENGTH(payload) AS size, payload "
        f"FROM {rt.tables.name('tl_imports')} WHERE athlete_id = %s ORDER BY submitted_at",
        (athlete_id,))


def body_read_by(app: FastAPI, method: str, path: str, headers: dict[str, str],
                 chunks: int, chunk_size: int = MIB) -> tuple[int, int]:
    """Send a ``chunks`` x ``chunk_size`` body to ``app`` over ASGI; returns (status, chunks
    the server received before it answered)."""
    received = 0
    status = 0
    answered = asyncio.Event()
    chunk = b"x" * chunk_size

    async def receive() -> dict[str, Any]:
        nonlocal received
        if answered.is_set() or received >= chunks:
            await answered.wait()
            return {"type": "http.disconnect"}
        received += 1
        await asyncio.sleep(0)
        return {"type": "http.request", "body": chunk, "more_body": received < chunks}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            seen_at_answer.append(received)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            answered.set()

    seen_at_answer: list[int] = []
    raw = [(k.lower().encode(), v.encode()) for k, v in
           {"host": "testserver", **headers,
            "content-length": str(chunks * chunk_size)}.items()]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": raw, "scheme": "http", "server": ("test", 80),
             "client": ("test", 1), "root_path": ""}
    asyncio.run(app(scope, receive, send))
    return status, seen_at_answer[0] if seen_at_answer else received
