"""Importing many files at once (CLI, watched folder): decode in worker processes, record in
order, report each file's result.  With Kafka the files go through the intake topic."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ingest.fit.importer import FitResult, fit_payload, prepare, record
from ingest.intake import ImportRecord
from services import quota
from services.domain.base import Source
from services.domain.errors import OverQuota
from services.runtime import Runtime

FIT_SUFFIXES = {".fit"}


def find_fit_files(paths: Iterable[Path]) -> list[Path]:
    """Files given, and FIT files (any case) under folders given, recursively, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*")
                            if p.is_file() and p.suffix.lower() in FIT_SUFFIXES)
        else:
            found.append(path)
    return found


def _results_direct(rt: Runtime, source: Source, athlete_id: str, files: list[Path],
                    salvage: bool, workers: int) -> Iterator[tuple[Path, FitResult]]:
    def read(path: Path) -> bytes:
        return path.read_bytes()

    with ProcessPoolExecutor(max_workers=workers) as pool:
        blobs = {path: read(path) for path in files if path.is_file()}
        futures = {path: pool.submit(prepare, str(path), blobs[path], salvage)
                   for path in files if path in blobs}
        for path in files:
            if path not in blobs:
                yield path, FitResult("rejected", f"{path}: no such file")
                continue
            try:
                quota.check(rt, athlete_id, len(blobs[path]), "this file")
            except OverQuota as exc:
                yield path, FitResult("rejected", f"{path}: {exc.message}")
                continue
            prepared = futures[path].result()
            yield path, record(rt.app, rt.artifacts, source, athlete_id, prepared, blobs[path])


def _results_via_intake(rt: Runtime, source: Source, athlete_id: str, files: list[Path],
                        salvage: bool, timeout: float) -> Iterator[tuple[Path, FitResult]]:
    submitted: list[tuple[Path, ImportRecord | str | None]] = []
    for path in files:
        if not path.is_file():
            submitted.append((path, None))
            continue
        data = path.read_bytes()
        try:
            quota.check(rt, athlete_id, len(data), "this file")
        except OverQuota as exc:
            submitted.append((path, exc.message))
            continue
        payload = fit_payload(str(path), data, salvage)
        submitted.append((path, rt.imports.submit(athlete_id, "fit", payload, source)))
    for path, request in submitted:
        if request is None:
            yield path, FitResult("rejected", f"{path}: no such file")
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
        yield path, result


def import_files(rt: Runtime, source: Source, athlete_id: str, files: list[Path],
                 salvage: bool = False, workers: int = 2, timeout: float = 120.0,
                 progress: Callable[[int, int, Path, FitResult], None] | None = None,
                 ) -> list[dict[str, Any]]:
    """Import the files; returns one result dict per file, in order."""
    if rt.settings.kafka_bootstrap:
        results = _results_via_intake(rt, source, athlete_id, files, salvage, timeout)
    else:
        results = _results_direct(rt, source, athlete_id, files, salvage, workers)
    out = []
    for i, (path, result) in enumerate(results, 1):
        if progress is not None:
            progress(i, len(files), path, result)
        out.append({"file": str(path), "status": result.status, **{
            k: v for k, v in result.as_dict().items() if k != "status"}})
    return out
