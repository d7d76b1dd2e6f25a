"""A planned week's workouts for the watch: one FIT workout file per planned slot.

``GET /athletes/{id}/plans/{week_start}/workouts.zip`` answers them as a zip;
``trainledger workouts WEEK_START --out DIR`` writes them into a folder.  Cancelled slots
are left out.  Each file is named after its day, its place in the plan and its title
(``2026-11-23-1-squat-day.fit``); the file's content is described in
:mod:`ingest.fit.workout_file`.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from pathlib import Path

from ingest.fit.workout_file import slot_name, workout_file
from services.application import TrainingLog
from services.domain.plan import slot_serial, workout_created_at
from services.private_files import private_dir, write_private

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same plan gives the same zip


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "workout"


def week_workouts(app: TrainingLog, athlete_id: str, week_start: date) -> list[tuple[str, bytes]]:
    """(file name, FIT bytes) of each planned slot of the week, in plan order; NotFound
    when the week has no plan."""
    plan = app.plan(athlete_id, week_start)
    athlete = app.athlete(athlete_id)
    custom = athlete.custom_exercises
    created = workout_created_at(week_start)
    out = []
    for index, (slot_id, slot) in enumerate(plan.sessions.items(), start=1):
        if slot.get("cancelled"):
            continue
        data = workout_file(slot, slot_serial(slot_id), created, athlete.profile["mass_unit"],
                            lambda e: custom.get(e, {}).get("name", "Exercise"))
        name = f"{slot.get('day') or week_start.isoformat()}-{index}-{_slug(slot_name(slot))}"
        out.append((f"{name}.fit", data))
    return out


def as_zip(files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(zipfile.ZipInfo(name, ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def write_folder(files: list[tuple[str, bytes]], out: Path) -> list[Path]:
    """Write the files into ``out`` (made if needed, private to the user)."""
    private_dir(out)
    paths = []
    for name, data in files:
        write_private(out / name, data)
        paths.append(out / name)
    return paths
