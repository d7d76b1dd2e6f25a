"""The exercise catalogue (every FIT exercise category and name) and custom exercises."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query

from services.api import schemas as s
from services.api.security import CallerDep
from services.domain.exercises import get_exercise, search_exercises

router = APIRouter(tags=["exercises"])


@router.get(
    "/exercises",
    response_model=list[s.ExerciseOut],
    summary="Search the catalogue (and the athlete's custom exercises)",
)
def find_exercises(
    caller: CallerDep,
    q: str = Query(..., min_length=1, max_length=100, examples=["squat"]),
    athlete_id: str | None = None,
    limit: int = Query(20, ge=1, le=200),
) -> list[s.ExerciseOut]:
    found = [
        s.ExerciseOut(id=e.id, name=e.name, category=e.category) for e in search_exercises(q, limit)
    ]
    if athlete_id is not None:
        caller.check_read(athlete_id)
        custom = caller.runtime.app.athlete(athlete_id).custom_exercises
        found = [
            s.ExerciseOut(id=i, name=e["name"], category=e["category"], custom=True)
            for i, e in custom.items()
            if q.lower() in e["name"].lower()
        ] + found
    return found[:limit]


@router.get("/exercises/{exercise_id}", response_model=s.ExerciseOut)
def get_catalogue_exercise(exercise_id: str, caller: CallerDep) -> s.ExerciseOut:
    exercise = get_exercise(exercise_id)
    if exercise is None:
        raise HTTPException(404, "no such exercise in the catalogue")
    return s.ExerciseOut(id=exercise.id, name=exercise.name, category=exercise.category)
