"""Export archives (Garmin Connect, Strava) uploaded in parts, past the 64 MiB request limit:
``POST /athletes/{id}/archives`` with the size, ``PUT /archives/{upload_id}`` each part
with ``Content-Range: bytes START-END/SIZE`` (a 409 says where to go on from), then
``POST /archives/{upload_id}/finish``: each FIT file is queued for the intake as an upload
is (``GET /imports/{id}``, or ``GET /archives/{upload_id}`` for them all)."""

from __future__ import annotations

import re
import zipfile
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from ingest.fit.batch import import_archive
from services import quota
from services.api import schemas as s
from services.api.routes_imports import MAX_FIT_UPLOAD
from services.api.security import Caller, CallerDep
from services.archive_uploads import ArchiveUploads, Upload
from services.domain.errors import InvalidValue

router = APIRouter(tags=["imports"])
RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class ArchiveIn(s.Strict):
    name: str = Field("export.zip", min_length=1, max_length=200)
    size: int = Field(..., ge=1, description="the archive's size in bytes")


class ArchiveEntryOut(BaseModel):
    file: str
    status: str
    reason: str | None = None
    import_id: str | None = None


class ArchiveOut(BaseModel):
    upload_id: str
    athlete_id: str
    name: str
    size: int
    received: int
    status: str
    entries: list[ArchiveEntryOut]
    counts: dict[str, int]


def _uploads(caller: Caller) -> ArchiveUploads:
    return ArchiveUploads(caller.runtime.settings.data_dir)


def _out(caller: Caller, upload: Upload) -> ArchiveOut:
    """The upload, each queued file with its request's status now."""
    entries = []
    for entry in upload.entries:
        if entry.get("status") == "pending" and entry.get("import_id"):
            found = caller.runtime.imports.get(entry["import_id"])
            if found is not None:
                entry = {**entry, "status": found.status, "reason": found.reason}
        entries.append(ArchiveEntryOut.model_validate(
            {k: entry.get(k) for k in ArchiveEntryOut.model_fields}))
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.status] = counts.get(e.status, 0) + 1
    return ArchiveOut(upload_id=upload.upload_id, athlete_id=upload.athlete_id,
                      name=upload.name, size=upload.size, received=upload.received,
                      status=upload.status, entries=entries, counts=counts)


def _owned(caller: Caller, upload_id: str, write: bool) -> Upload:
    if write:
        caller.require_writer()  # coaches are read-only: 403 whoever's upload it is
    upload = _uploads(caller).get(upload_id)
    if not caller.can_read(upload.athlete_id):
        raise HTTPException(404, "no such upload")
    if write:
        caller.check_write(upload.athlete_id)
    return upload


@router.post("/athletes/{athlete_id}/archives", status_code=201, response_model=ArchiveOut,
             summary="Start uploading an export archive (.zip) of `size` bytes, in parts")
def create_archive(athlete_id: str, body: ArchiveIn, caller: CallerDep) -> ArchiveOut:
    caller.check_write(athlete_id)
    quota.check(caller.runtime, athlete_id, body.size, "this archive")
    return _out(caller, _uploads(caller).create(athlete_id, body.name, body.size,
                                                caller.ctx.request_id))


@router.put("/archives/{upload_id}", response_model=ArchiveOut,
            max_body_size=MAX_FIT_UPLOAD,
            summary="Add a part (raw bytes, at most 64 MiB) at the upload's end",
            description="`Content-Range: bytes START-END/SIZE` names where the part goes; "
                        "without it the part is added at the end. A part that does not start "
                        "where the upload ends is refused (409) with the byte to send from.")
async def put_part(upload_id: str, request: Request, caller: CallerDep) -> ArchiveOut:
    upload = await run_in_threadpool(_owned, caller, upload_id, True)
    data = await request.body()
    start = upload.received
    header = request.headers.get("content-range")
    if header is not None:
        match = RANGE.fullmatch(header.strip())
        if match is None or int(match[2]) - int(match[1]) + 1 != len(data) or (
                match[3] != "*" and int(match[3]) != upload.size):
            raise InvalidValue(f"Content-Range {header!r} does not describe this part of "
                               f"{len(data)} bytes of an upload of {upload.size}: use "
                               f"bytes START-END/{upload.size}", "Content-Range")
        start = int(match[1])
    await run_in_threadpool(quota.check, caller.runtime, upload.athlete_id, len(data),
                            "this part")
    return _out(caller, await run_in_threadpool(_uploads(caller).append, upload, start, data))


@router.get("/archives/{upload_id}", response_model=ArchiveOut,
            summary="An archive upload: bytes received, and once finished each file's status")
def get_archive(upload_id: str, caller: CallerDep) -> ArchiveOut:
    return _out(caller, _owned(caller, upload_id, False))


@router.post("/archives/{upload_id}/finish", status_code=202, response_model=ArchiveOut,
             summary="Queue the archive's FIT files for import; answers per file")
def finish_archive(upload_id: str, caller: CallerDep) -> ArchiveOut:
    upload = _owned(caller, upload_id, True)
    uploads = _uploads(caller)
    path = uploads.reading(upload)
    try:
        results = import_archive(caller.runtime, caller.ctx.source, upload.athlete_id, path,
                                 wait=False)
    except zipfile.BadZipFile as exc:
        uploads.delete(upload)
        raise InvalidValue(f"{upload.name}: not a readable zip archive ({exc})",
                           "archive") from None
    entries: list[dict[str, Any]] = [
        {**r, "reason": None} if r["status"] == "pending" else r for r in results]
    return _out(caller, uploads.finish(upload, entries))


@router.delete("/archives/{upload_id}", status_code=204, response_class=Response,
               summary="Abandon an upload (its bytes stop counting against the quota)")
def delete_archive(upload_id: str, caller: CallerDep) -> Response:
    upload = _owned(caller, upload_id, True)
    _uploads(caller).delete(upload)
    return Response(status_code=204)
