"""Watching a folder (a mounted device, e.g. ``GARMIN/Activity``) for new FIT files.

Polls, so it works on any file system (USB mass storage, network shares); a file is imported
once its size and modification time held still for one interval (the device may still be
writing it).  Symlinks in the folder are never followed: they are reported once and skipped.
What was seen is kept in ``tl_watch_seen`` (path, size, mtime), so a restart
does not re-read old files; a file that changes is imported again (and answers duplicate if
its activity is already recorded).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.fit.batch import find_fit_files, import_files
from services.domain.base import Source
from services.runtime import Runtime


class FolderWatcher:
    def __init__(self, rt: Runtime, athlete_id: str, folder: Path,
                 report: Callable[[dict[str, Any]], None] = lambda _: None) -> None:
        self.rt = rt
        self.athlete_id = athlete_id
        self.folder = folder
        self.report = report
        self.table = rt.seen_files.table
        self._pending: dict[str, tuple[int, float]] = {}
        self._links_reported: set[str] = set()

    def _seen(self) -> dict[str, tuple[int, float]]:
        rows = self.rt.tables.query(f"SELECT path, size, mtime FROM {self.table} "
                                    "WHERE athlete_id = %s", (self.athlete_id,))
        return {r["path"]: (int(r["size"]), float(r["mtime"])) for r in rows}

    def scan(self) -> list[dict[str, Any]]:
        """One pass: import the files that are new or changed and have settled."""
        seen = self._seen()
        ready: list[Path] = []
        found = find_fit_files([self.folder])
        for link in found.skipped:  # never followed: reported once per run
            if link["file"] not in self._links_reported:
                self._links_reported.add(link["file"])
                self.report(link)
        for path in found.files:
            try:
                stat = path.lstat()
            except OSError:
                continue  # removed while we looked
            key, mark = str(path.resolve()), (stat.st_size, stat.st_mtime)
            if seen.get(key) == mark:
                continue
            if self._pending.get(key) == mark:
                ready.append(path)
            else:
                self._pending[key] = mark  # settle for one interval first
        if not ready:
            return []
        results = import_files(self.rt, Source("device", principal_id="watch"),
                               self.athlete_id, ready)
        for path, result in zip(ready, results, strict=True):
            key = str(path.resolve())
            size, mtime = self._pending.pop(key)
            self.rt.tables.execute(
                f"INSERT INTO {self.table} AS w (athlete_id, path, size, mtime, status) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (athlete_id, path) DO UPDATE SET "
                "size = excluded.size, mtime = excluded.mtime, status = excluded.status",
                (self.athlete_id, key, size, mtime, result["status"]))
            self.report(result)
        return results

    def run(self, stop: threading.Event, interval: float = 2.0) -> None:
        while not stop.is_set():
            if self.folder.is_dir():  # an unmounted device simply shows nothing
                self.scan()
            stop.wait(interval)
