"""Exports of one athlete: the events as JSON Lines, each view's main table as CSV.

The events are described as in the audit trail (:mod:`services.audit`), one per line, in
recorded order.  A view's CSV flattens its main table, one row per:

=========  ==========================================================================
load       session (sRPE, TRIMPs, volume load, the load used)
strength   exercise (sets, heaviest, best and latest e1RM, the set behind the best)
fatigue    day of the series (load, CTL, ATL, TSB, ACWR, monotony, strain)
recovery   day and marker (resting HR, lnRMSSD), with the marker's current status
goals      goal (target, current value, percent, projection)
execution  planned week (planned, completed, training done, missed)
readiness  criterion (value, threshold, passed, note)
=========  ==========================================================================

Nested objects become dotted columns (``best_e1rm_set.session_id``), lists of plain values
are joined with ``"; "``, and nested tables (a goal's values, an exercise's e1RM series) are
left to the view's JSON.  ``trainledger export`` writes the same files into a folder.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from projections.analytics import VIEWS, history_as_of
from projections.history import AthleteHistory
from projections.history_facts import HistoryFacts
from services.audit import json_lines, jsonable, owned_aggregates, read_events
from services.domain.errors import InvalidValue
from services.private_files import DIR_MODE, FILE_MODE
from services.runtime import Runtime

JSONL_MEDIA_TYPE = "application/jsonl"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def _recovery_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"marker": name, "day": point["day"], "value": point["value"],
             "marker_status": marker["status"]}
            for name, marker in view["markers"].items() for point in marker["series"]]


#: view name -> (its main table, the leading columns: the header of an empty table)
TABLES: dict[str, tuple[Callable[[dict[str, Any]], list[dict[str, Any]]], tuple[str, ...]]] = {
    "load": (lambda v: v["sessions"],
             ("session_id", "day", "sport", "planned_role", "minutes", "session_rpe", "sets",
              "volume_load_kg", "srpe_load", "trimp_banister", "trimp_edwards", "load",
              "load_source")),
    "strength": (lambda v: v["exercises"],
                 ("exercise_id", "name", "sets", "heaviest_kg", "best_e1rm_kg",
                  "best_e1rm_brzycki_kg", "latest_e1rm_kg")),
    "fatigue": (lambda v: v["series"],
                ("day", "load", "ctl", "atl", "tsb", "acwr", "monotony", "strain")),
    "recovery": (_recovery_rows, ("marker", "day", "value", "marker_status")),
    "goals": (lambda v: v["goals"],
              ("goal_id", "title", "metric.kind", "direction", "unit", "status",
               "target_value", "start_value", "current_value", "deadline", "percent",
               "slope_per_day", "projected_date", "on_track")),
    "execution": (lambda v: v["weeks"],
                  ("week_start", "planned", "completed", "training_planned", "training_done",
                   "volume_planned", "converted", "missed")),
    "readiness": (lambda v: v["criteria"], ("name", "value", "threshold", "passed", "note")),
}
assert set(TABLES) == set(VIEWS), "every view needs its CSV table"


def check_view(name: str) -> str:
    if name not in VIEWS:
        raise InvalidValue(f"unknown view {name!r}; views: {', '.join(VIEWS)}", "view")
    return name


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """One CSV row: nested objects as dotted columns, lists of plain values joined, lists of
    objects (nested tables) left out."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        column = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{column}."))
        elif isinstance(value, list | tuple):
            if all(not isinstance(v, dict | list | tuple) for v in value):
                out[column] = "; ".join("" if v is None else str(jsonable(v)) for v in value)
        elif isinstance(value, bool):
            out[column] = "true" if value else "false"
        else:
            out[column] = jsonable(value)
    return out


def table(name: str, view: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, rows) of a view's main table."""
    extract, leading = TABLES[name]
    rows = [flatten(r) for r in extract(view)]
    columns = list(leading)  # always there, in this order: a stable header
    for r in rows:
        columns.extend(c for c in r if c not in columns)
    return columns, rows


#: a text cell starting with one of these is read as a formula by spreadsheets (OWASP CSV
#: injection): it is written with a leading ``'``.  Numbers are written as numbers.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: empty for None, text that could run as a formula defused."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(columns: list[str], rows: Iterable[dict[str, Any]],
               chunk: int = 500) -> Iterator[str]:
    """The table as CSV text (header first), a few hundred rows per chunk."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for i, row in enumerate(rows, 1):
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
        if i % chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def athlete_history(rt: Runtime, athlete_id: str,
                    as_of: str | None = None) -> tuple[date, AthleteHistory]:
    """(day, history) for the views of an athlete ``as_of`` a moment, as the views API reads
    them; NotFound for an unknown athlete."""
    day, _, history = history_as_of(rt.app, rt.tables,
                                    lambda: rt.directory.feed.catch_up(rt.directory.view),
                                    athlete_id, as_of)
    return day, history


# ------------------------------------------------------------------ to a folder (the CLI)


@dataclass
class Exported:
    path: Path
    lines: int  # events, or CSV rows without the header


def _write(path: Path, chunks: Iterable[str]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    with open(fd, "w", encoding="utf-8", newline="") as fh:
        for text in chunks:
            fh.write(text)
    os.replace(tmp, path)


def export_athlete(rt: Runtime, athlete_id: str, out_dir: Path,
                   views: Iterable[str] | None = None,
                   progress: Callable[[int, int, Exported], None] | None = None,
                   ) -> list[Exported]:
    """Write ``events.jsonl`` and ``<view>.csv`` for each view (default: all) into
    ``out_dir``; raises NotFound for an unknown athlete before writing anything."""
    names = [check_view(v) for v in (views or VIEWS)]
    day, history = athlete_history(rt, athlete_id)
    out_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)  # an existing one is kept as is
    total = 1 + len(names)
    entries = read_events(rt.app, owned_aggregates(rt, athlete_id))
    events = Exported(out_dir / "events.jsonl", len(entries))
    _write(events.path, json_lines(entries))
    done = [events]
    if progress:
        progress(1, total, events)
    for i, name in enumerate(names, 2):
        columns, rows = table(name, VIEWS[name](HistoryFacts(history), day))
        item = Exported(out_dir / f"{name}.csv", len(rows))
        _write(item.path, csv_chunks(columns, rows))
        done.append(item)
        if progress:
            progress(i, total, item)
    return done
