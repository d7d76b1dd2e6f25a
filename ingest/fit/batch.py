"""Importing many files at once (CLI, watched folder): decode in worker processes, record in
order, report each file's result.  With Kafka the files go through the intake topic.

Files are read one at a time, as they are handed to a worker (at most two per worker in
flight), never the whole batch at once; a file over ``TRAINLEDGER_MAX_FIT_FILE`` is
rejected unread."""

from __future__ import annotations

import os
import stat
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.fit.importer import FitResult, Prepared, fit_payload, prepare, record
from ingest.intake import ImportRecord
from services import quota
from services.domain.base import Source
from services.domain.errors import OverQuota
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


#: a file and its bytes, or why it was not read
Read = tuple[Path, bytes | FitResult]


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


def _results_direct(rt: Runtime, source: Source, athlete_id: str, read: Iterator[Read],
                    salvage: bool, workers: int) -> Iterator[tuple[Path, FitResult]]:
    flight: deque[tuple[Path, bytes | FitResult, Future[Prepared] | None]] = deque()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        while True:
            for path, data in read:  # fill the window: at most two files per worker
                job = pool.submit(prepare, str(path), data, salvage) \
                    if isinstance(data, bytes) else None
                flight.append((path, data, job))
                if len(flight) >= 2 * workers:
                    break
            if not flight:
                return
            path, data, job = flight.popleft()
            if isinstance(data, FitResult) or job is None:  # not read: its reason
                yield path, data if isinstance(data, FitResult) else FitResult("rejected")
                continue
            try:
                quota.check(rt, athlete_id, len(data), "this file")
            except OverQuota as exc:
                yield path, FitResult("rejected", f"{path}: {exc.message}")
                continue
            yield path, record(rt.app, rt.artifacts, source, athlete_id, job.result(), data)


def _results_via_intake(rt: Runtime, source: Source, athlete_id: str, read: Iterator[Read],
                        salvage: bool, timeout: float) -> Iterator[tuple[Path, FitResult]]:
    submitted: list[tuple[Path, ImportRecord | FitResult | str]] = []
    for path, data in read:
        if isinstance(data, FitResult):
            submitted.append((path, data))
            continue
        try:
            quota.check(rt, athlete_id, len(data), "this file")
        except OverQuota as exc:
            submitted.append((path, exc.message))
            continue
        payload = fit_payload(str(path), data, salvage)
        submitted.append((path, rt.imports.submit(athlete_id, "fit", payload, source)))
    for path, request in submitted:
        if isinstance(request, FitResult):
            yield path, request
            continue
        if isinstance(request, str):
            yield path, FitResult("rejected", f"{path}: {request}")
            continue
        deadline = time.monotonic() + timeout
        answer = rt.imports.get(request.import_id)
        while answer is not None and answer.status == "pending" and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = rt.imports.get(request.import_id)
        if answer is None or answer.status == "pending":
            yield path, FitResult("pending", f"{path}: queued as import {request.import_id}; "
                                  "is `trainledger intake` running?")
            continue
        result = FitResult(answer.status, answer.reason)
        result.session_ids = list(answer.result.get("session_ids", []))
        result.observation_ids = list(answer.result.get("observation_ids", []))
        result.notes = list(answer.result.get("notes", []))
        yield path, result


def import_files(rt: Runtime, source: Source, athlete_id: str, files: list[Path],
                 salvage: bool = False, workers: int = 2, timeout: float = 120.0,
                 progress: Callable[[int, int, Path, FitResult], None] | None = None,
                 named: Collection[Path] = (),
                 ) -> list[dict[str, Any]]:
    """Import the files; returns one result dict per file, in order.  Only the ``named``
    ones (chosen by the user) are read through a symlink; any other symlink is skipped."""
    limit = rt.settings.max_fit_file
    read = ((path, read_fit(path, path in named, limit)) for path in files)
    if rt.settings.kafka_bootstrap:
        results = _results_via_intake(rt, source, athlete_id, read, salvage, timeout)
    else:
        results = _results_direct(rt, source, athlete_id, read, salvage, workers)
    out = []
    for i, (path, result) in enumerate(results, 1):
        if progress is not None:
            progress(i, len(files), path, result)
        out.append({"file": str(path), "status": result.status, **{
            k: v for k, v in result.as_dict().items() if k != "status"}})
    return out
