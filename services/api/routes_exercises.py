"""The exercise catalogue (every FIT exercise category and name) and custom exercises."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, HTTPException, Query

from services.api import schemas as s
from services.api.security import CallerDep
from services.domain.exercises import (
    UNKNOWN_FIT_CATEGORY,
    Exercise,
    get_exercise,
    is_custom_exercise_id,
    search_exercises,
)

HISTORY_SESSIONS = 40  # the athlete's latest sessions that rank the results

router = APIRouter(tags=["exercises"])


@router.get(
    "/exercises",
    response_model=list[s.ExerciseOut],
    summary="Search the catalogue (and the athlete's custom exercises)",
)
def find_exercises(
    caller: CallerDep,
    q: str = Query(..., min_length=1, max_length=100, examples=["squat"]),
    athlete_id: str | None = Query(
        None, description="Rank by this athlete's sets and include their custom exercises"
    ),
    limit: int = Query(20, ge=1, le=200),
) -> list[s.ExerciseOut]:
    history: Counter[str] = Counter()
    custom: list[Exercise] = []
    if athlete_id is not None:
        caller.check_read(athlete_id)
        app = caller.runtime.app
        custom = [
            Exercise(i, e["name"], e["category"], UNKNOWN_FIT_CATEGORY, None)
            for i, e in app.athlete(athlete_id).custom_exercises.items()
        ]
        rows = caller.runtime.directory.list("session", athlete_id, limit=HISTORY_SESSIONS)
        for row in rows:
            history.update(x["exercise_id"] for x in app.session(row["entity_id"]).sets.values())
    return [
        s.ExerciseOut(id=e.id, name=e.name, category=e.category, custom=is_custom_exercise_id(e.id))
        for e in search_exercises(q, limit, history, custom)
    ]


@router.get("/exercises/{exercise_id}", response_model=s.ExerciseOut)
def get_catalogue_exercise(exercise_id: str, caller: CallerDep) -> s.ExerciseOut:
    exercise = get_exercise(exercise_id)
    if exercise is None:
        raise HTTPException(404, "no such exercise in the catalogue")
    return s.ExerciseOut(id=exercise.id, name=exercise.name, category=exercise.category)
