"""Imports: queued for the intake worker, answered later (imported / duplicate / rejected)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from ingest.fit.importer import fit_content_hash, fit_payload
from services import quota
from services.api import schemas as s
from services.api.security import CallerDep
from services.config import Settings

router = APIRouter(tags=["imports"])


class SessionsImportIn(s.Strict):
    kind: Literal["sessions"] = "sessions"
    sessions: list[s.SessionIn] = Field(..., min_length=1, max_length=1000)


class ImportOut(BaseModel):
    import_id: str
    athlete_id: str
    kind: str
    status: Literal["pending", "imported", "updated", "duplicate", "skipped", "rejected"]
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
    quota.check(caller.runtime, athlete_id, len(payload), "this import")
    record = caller.runtime.imports.submit(athlete_id, body.kind, payload,
                                           caller.ctx.source, caller.ctx.request_id)
    return ImportOut(**vars(record))


MAX_FIT_UPLOAD = 64 * 1024 * 1024  # a whole device's week
MAX_FIT_FILE = Settings.max_fit_file  # the default per-file limit (TRAINLEDGER_MAX_FIT_FILE)


class FitUploadOut(BaseModel):
    file: str
    status: str
    reason: str | None = None
    request: ImportOut | None = None


@router.post("/athletes/{athlete_id}/imports/fit", status_code=202,
             response_model=list[FitUploadOut],
             max_body_size=MAX_FIT_UPLOAD,
             summary="Upload FIT files (multipart, field `files`); each is queued for intake",
             description="Answers per file. `wait` (s) holds the answer until the intake has "
                         "decided (imported / duplicate / skipped / rejected).  `salvage=true` "
                         "reads damaged files as `trainledger import --salvage` does.")
async def upload_fit(athlete_id: str, caller: CallerDep, files: list[UploadFile],
                     wait: float = Query(0, ge=0, le=60),
                     salvage: bool = Query(False, description=(
                         "Import the readable part of a file cut short, or of an unfinished "
                         "recording whose header gives a data size of 0: its complete "
                         "records, as a session flagged `partial` (its complete file, "
                         "imported later, updates it in place).  Without it such a file is "
                         "rejected, naming the fault."))) -> list[FitUploadOut]:
    await run_in_threadpool(caller.check_write, athlete_id)
    answers: list[FitUploadOut] = []
    accepted: list[tuple[int, str, bytes]] = []
    limit = caller.runtime.settings.max_fit_file
    for upload in files:
        name = upload.filename or "upload.fit"
        data = await upload.read(limit + 1)
        if len(data) > limit:
            answers.append(FitUploadOut(file=name, status="rejected", reason=(
                f"{name}: larger than {limit} bytes (TRAINLEDGER_MAX_FIT_FILE)")))
            continue
        accepted.append((len(answers), name, data))
        answers.append(FitUploadOut(file=name, status="pending"))
    await run_in_threadpool(quota.check, caller.runtime, athlete_id,
                            sum(len(data) for _, _, data in accepted))
    queued: list[tuple[int, str]] = []
    for index, name, data in accepted:
        key = f"{caller.ctx.request_id}:{index}" if caller.ctx.request_id else None
        record = await run_in_threadpool(caller.runtime.imports.submit, athlete_id, "fit",
                                         fit_payload(name, data, salvage),
                                         caller.ctx.source, key,
                                         fit_content_hash(data))
        queued.append((index, record.import_id))
        answers[index] = FitUploadOut(file=name, status="pending",
                                      request=ImportOut(**vars(record)))
    deadline = time.monotonic() + wait
    for index, import_id in queued:
        while True:
            found = await run_in_threadpool(caller.runtime.imports.get, import_id)
            assert found is not None
            if found.status != "pending" or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.1)
        answers[index] = FitUploadOut(file=answers[index].file, status=found.status,
                                      reason=found.reason, request=ImportOut(**vars(found)))
    return answers


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
