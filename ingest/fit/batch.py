"""Importing many files at once (CLI, watched folder): each file becomes an import request,
as an upload does, applied by the intake (at once in this process without Kafka, by
``trainledger intake`` with it); each file's result is reported.  Files are read one at a
time, never the whole batch at once; a file over ``TRAINLEDGER_MAX_FIT_FILE`` is rejected
unread.  Files are committed in groups (:mod:`services.group_commit`): each file's work is
undone alone if it fails, and a run stopped mid-way loses at most the uncommitted group."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ingest.fit.archive import ArchiveLimits, read_archive
from ingest.fit.importer import FitResult, fit_content_hash, fit_payload
from ingest.intake import ImportRecord, import_id_for
from services import quota
from services.config import Settings
from services.domain.base import Source
from services.domain.errors import OverQuota
from services.group_commit import GroupCommit
from services.runtime import Runtime

FIT_SUFFIXES = {".fit"}
SYMLINK = "a symbolic link, not followed (name the file itself to import what it points to)"


@dataclass
class FitFiles:
    """What to import: ``files`` in order; ``named``, those the user named themselves (read
    even through a symlink); ``skipped``, symlinks met inside folders, with the reason."""

    files: list[Path] = field(default_factory=list)
    named: set[Path] = field(default_factory=set)
    skipped: list[dict[str, Any]] = field(default_factory=list)


def skipped_link(path: Path) -> dict[str, Any]:
    return {"file": str(path), "status": "skipped", "reason": f"{path}: {SYMLINK}"}


def find_fit_files(paths: Iterable[Path]) -> FitFiles:
    """Files given, and FIT files (any case) under folders given, recursively, sorted.

    A symlink inside a folder (to a file or a folder) is skipped and reported: a folder may
    hold links planted by someone else (``token -> ~/.ssh/id_ed25519``); a path named here
    is the user's own choice and is followed."""
    found = FitFiles()
    for path in paths:
        if not path.is_dir():
            found.files.append(path)
            found.named.add(path)
            continue
        inside: list[Path] = []
        for folder, dirs, files in os.walk(path):
            for name in sorted(dirs):
                if (Path(folder) / name).is_symlink():
                    found.skipped.append(skipped_link(Path(folder) / name))
            for name in files:
                candidate = Path(folder) / name
                if candidate.suffix.lower() not in FIT_SUFFIXES:
                    continue
                if candidate.is_symlink():
                    found.skipped.append(skipped_link(candidate))
                elif candidate.is_file():
                    inside.append(candidate)
        found.files += sorted(inside)
    return found


def read_fit(path: Path, follow: bool, limit: int) -> bytes | FitResult:
    """The file's bytes, or why it was not read.  ``follow=False`` refuses a symlink, even
    one put in the file's place since it was found; a FIFO or device is refused unread, and
    a file over ``limit`` bytes too."""
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return FitResult("rejected", f"{path}: no such file")
    except OSError as exc:
        if not follow and path.is_symlink():
            return FitResult("skipped", f"{path}: {SYMLINK}")
        return FitResult("rejected", f"{path}: cannot read: {exc.strerror}")
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return FitResult("rejected", f"{path}: not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        return FitResult("rejected",
                         f"{path}: larger than {limit} bytes (TRAINLEDGER_MAX_FIT_FILE)")
    return data


def _submit(rt: Runtime, source: Source, athlete_id: str, path: Path, follow: bool,
            salvage: bool, tally: quota.Tally) -> ImportRecord | FitResult:
    """Read one file and queue it as an import request (the upload API's path)."""
    data = read_fit(path, follow, rt.settings.max_fit_file)
    if isinstance(data, FitResult):
        return data
    return submit_bytes(rt, source, athlete_id, str(path), data, salvage, tally=tally)


def submit_bytes(rt: Runtime, source: Source, athlete_id: str, name: str, data: bytes,
                 salvage: bool = False, request_id: str | None = None, apply: bool = True,
                 tally: quota.Tally | None = None) -> ImportRecord | FitResult:
    """Queue a file read already as an import request, against the quota (``tally``: of
    the files of one import); with no Kafka and ``apply``, apply it right away in this
    process (the API leaves it to the intake).  A ``request_id`` queued before answers that
    request."""
    try:
        (tally or quota.Tally(rt, athlete_id)).check(len(data), "this file")
    except OverQuota as exc:
        return FitResult("rejected", f"{name}: {exc.message}")
    request = rt.imports.submit(athlete_id, "fit", fit_payload(name, data, salvage), source,
                                request_id, content_hash=fit_content_hash(data))
    return _apply(rt, request) if apply else request


def _apply(rt: Runtime, request: ImportRecord) -> ImportRecord:
    """With no Kafka, apply a pending request in this process; with it, leave it queued."""
    if rt.settings.kafka_bootstrap or request.status != "pending":
        return request
    rt.intake.process(request.import_id)
    return rt.imports.get(request.import_id) or request


def _decided(rt: Runtime, request: ImportRecord, deadline: float) -> ImportRecord:
    answer = rt.imports.get(request.import_id) or request
    while answer.status == "pending" and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = rt.imports.get(request.import_id) or answer
    return answer


def _wait_all(rt: Runtime, waiting: list[tuple[int, Any, ImportRecord]], timeout: float,
              done: Callable[[int, Any, ImportRecord], None]) -> None:
    """Wait for each queued request in turn, up to ``timeout`` seconds without any being
    decided: once one times out (no intake running), the rest are answered as they stand."""
    stalled = False
    for index, name, request in waiting:
        answer = _decided(rt, request, time.monotonic() + (0 if stalled else timeout))
        stalled = answer.status == "pending"
        done(index, name, answer)


def _as_dict(path: Path | str, result: ImportRecord | FitResult) -> dict[str, Any]:
    if isinstance(result, FitResult):
        return {"file": str(path), "status": result.status, **{
            k: v for k, v in result.as_dict().items() if k != "status"}}
    if result.status == "pending":
        return {"file": str(path), "status": "pending", "import_id": result.import_id,
                "reason": f"{path}: queued as import {result.import_id}; "
                          "is `trainledger intake` running?"}
    reason = {"reason": result.reason} if result.reason else {}
    return {"file": str(path), "status": result.status, **reason,
            "import_id": result.import_id, **result.result}


def import_files(rt: Runtime, source: Source, athlete_id: str, files: list[Path],
                 salvage: bool = False, timeout: float = 120.0,
                 progress: Callable[[int, int, Path, dict[str, Any]], None] | None = None,
                 named: Collection[Path] = (),
                 ) -> list[dict[str, Any]]:
    """Import the files, one at a time, through the intake (as an upload does: the same
    request table, content-hash and activity-identity checks); returns one result dict
    per file, in order.  Only the ``named`` ones (chosen by the user) are read through a
    symlink; any other symlink is skipped.  With Kafka, waits up to ``timeout`` seconds
    per file for the intake worker."""
    out: list[dict[str, Any]] = []
    waiting: list[tuple[int, Path, ImportRecord]] = []
    finished = 0

    def done(index: int, path: Path, result: ImportRecord | FitResult) -> None:
        nonlocal finished
        out[index] = _as_dict(path, result)
        finished += 1
        if progress is not None:
            progress(finished, len(files), path, out[index])

    tally = quota.Tally(rt, athlete_id)
    with GroupCommit(rt.app, rt.tables) as group:
        for path in files:
            with group.item():
                result = _submit(rt, source, athlete_id, path, path in named, salvage,
                                 tally)
            out.append({})
            if isinstance(result, ImportRecord) and result.status == "pending":
                waiting.append((len(out) - 1, path, result))
            else:
                done(len(out) - 1, path, result)
    _wait_all(rt, waiting, timeout, done)
    return out


def archive_limits(settings: Settings) -> ArchiveLimits:
    return ArchiveLimits(settings.archive_max_entries, settings.archive_max_entry,
                         settings.max_fit_file, settings.archive_max_total)


def _archive_file(rt: Runtime, source: Source, athlete_id: str, name: str, data: bytes,
                  salvage: bool, apply: bool, tally: quota.Tally) -> ImportRecord | FitResult:
    """Queue one FIT file of an archive under a request id of its content: run again (after
    a kill), a file decided before is skipped and one left pending is applied."""
    key = f"archive:{athlete_id}:{fit_content_hash(data)}:{int(salvage)}"
    earlier = rt.imports.get(import_id_for(key))
    if earlier is not None and earlier.status == "pending":
        return _apply(rt, earlier) if apply else earlier  # queued by a run that was stopped
    if earlier is not None:
        return FitResult("skipped", f"{name}: done by an earlier archive import "
                                    f"({earlier.status}, import {earlier.import_id})")
    return submit_bytes(rt, source, athlete_id, name, data, salvage, key, apply, tally)


def import_archive(rt: Runtime, source: Source, athlete_id: str, archive: Path | IO[bytes],
                   salvage: bool = False, timeout: float = 120.0,
                   progress: Callable[[int, str, dict[str, Any]], None] | None = None,
                   wait: bool = True) -> list[dict[str, Any]]:
    """Import every FIT file of an export archive (:mod:`ingest.fit.archive`), one at a
    time, as :func:`import_files` does; entries skipped or refused are reported too.
    ``wait=False`` (the API) only queues them for the intake.  Raises
    ``zipfile.BadZipFile`` if it is not a zip."""
    out: list[dict[str, Any]] = []
    waiting: list[tuple[int, str, ImportRecord]] = []

    def done(index: int, name: str, result: ImportRecord | FitResult) -> None:
        out[index] = _as_dict(name, result)
        if progress is not None:
            progress(index + 1, name, out[index])

    tally = quota.Tally(rt, athlete_id)
    with GroupCommit(rt.app, rt.tables) as group:
        for entry in read_archive(archive, archive_limits(rt.settings)):
            result: ImportRecord | FitResult
            if entry.status == "fit":
                with group.item():
                    result = _archive_file(rt, source, athlete_id, entry.name, entry.data,
                                           salvage, wait, tally)
            else:
                result = FitResult("skipped" if entry.status == "skipped" else "rejected",
                                   entry.reason)
            out.append({})
            if isinstance(result, ImportRecord) and result.status == "pending" and wait:
                waiting.append((len(out) - 1, entry.name, result))
            else:
                done(len(out) - 1, entry.name, result)
    _wait_all(rt, waiting, timeout, done)
    return out
