"""Imports: queued for the intake worker, answered later (imported / duplicate / rejected)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from services.api import schemas as s
from services.api.security import CallerDep

router = APIRouter(tags=["imports"])


class SessionsImportIn(s.Strict):
    kind: Literal["sessions"] = "sessions"
    sessions: list[s.SessionIn] = Field(..., min_length=1, max_length=1000)


class ImportOut(BaseModel):
    import_id: str
    athlete_id: str
    kind: str
    status: Literal["pending", "imported", "duplicate", "rejected"]
    reason: str | None
    result: dict[str, object]
    submitted_at: str
    finished_at: str | None


@router.post("/athletes/{athlete_id}/imports", status_code=202, response_model=ImportOut,
             summary="Queue an import of past sessions; poll GET /imports/{id} for the result")
def submit_import(athlete_id: str, body: SessionsImportIn, caller: CallerDep) -> ImportOut:
    caller.check_write(athlete_id)
    sessions = [x.model_dump(mode="json", exclude_none=True) for x in body.sessions]
    payload = json.dumps({"sessions": sessions}, sort_keys=True).encode()
    record = caller.runtime.imports.submit(athlete_id, body.kind, payload,
                                           caller.ctx.source)
    return ImportOut(**vars(record))


@router.get("/imports/{import_id}", response_model=ImportOut,
            summary="An import's status; `wait` holds the answer until it is no longer pending")
async def get_import(import_id: str, caller: CallerDep,
                     wait: float = Query(0, ge=0, le=30, description="seconds")) -> ImportOut:
    deadline = time.monotonic() + wait
    while True:
        record = await run_in_threadpool(caller.runtime.imports.get, import_id)
        if record is None or not caller.can_read(record.athlete_id):
            raise HTTPException(404, "no such import")
        if record.status != "pending" or time.monotonic() >= deadline:
            return ImportOut(**vars(record))
        await asyncio.sleep(0.1)
