"""Athletes: profile, settings, tokens, coach grants and custom exercises."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from services.api import schemas as s
from services.api.security import CallerDep
from services.api.views import athlete_out
from services.domain.errors import NotFound
from services.domain.validation import check_text, to_kg

router = APIRouter(tags=["athletes"])


def profile_changes(body: s.ProfileFields, current_unit: str | None) -> dict[str, Any]:
    """API profile fields to domain ones (body mass converted to kg)."""
    changes = body.model_dump(exclude_unset=True, exclude={"effective_at"})
    if changes.get("body_mass") is not None:
        unit = changes.get("mass_unit") or current_unit or "kg"
        changes["body_mass_kg"] = to_kg(changes.pop("body_mass"), unit, "body_mass")
    elif "body_mass" in changes:
        changes["body_mass_kg"] = changes.pop("body_mass")
    return changes


@router.post(
    "/athletes",
    status_code=201,
    response_model=s.AthleteCreated,
    summary="Create an athlete (admin) and issue their first token",
)
def create_athlete(body: s.AthleteIn, caller: CallerDep) -> s.AthleteCreated:
    caller.require_admin()
    app = caller.runtime.app
    athlete = app.register_athlete(caller.ctx, profile_changes(body, None))
    # A retry (same Idempotency-Key) gets a fresh token, which replaces the first one (tokens
    # are never stored to replay): one first token stays live.
    token_id, token = caller.runtime.tokens.reissue("athlete", str(athlete.id), "first token")
    return s.AthleteCreated(athlete=athlete_out(athlete), token_id=token_id, token=token)


@router.get(
    "/athletes", response_model=list[s.AthleteOut], summary="Athletes visible to the caller"
)
def list_athletes(caller: CallerDep) -> list[s.AthleteOut]:
    rows = caller.runtime.directory.list("athlete", newest_first=False, limit=10_000)
    app = caller.runtime.app
    listed = []
    for row in rows:
        if caller.can_read(row["entity_id"]):
            try:
                listed.append(athlete_out(app.athlete(row["entity_id"])))
            except NotFound:  # key destroyed, rows not yet purged: an erasure to finish
                continue
    return listed


@router.delete(
    "/athletes/{athlete_id}",
    summary="Erase an athlete (the admin, or the athlete): every stored payload of theirs "
    "becomes unreadable, derived data is deleted; this cannot be undone",
)
def erase_athlete(athlete_id: str, caller: CallerDep) -> dict[str, Any]:
    from services.erasure import ErasureIncomplete
    from services.erasure import erase_athlete as erase

    caller.require_writer()
    caller.write_access.check(athlete_id, "athlete")  # erase() says if there is none
    try:
        report = erase(caller.runtime, athlete_id)
    except ErasureIncomplete as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from exc
    return {"athlete_id": athlete_id, "erased": True, "rows_deleted": report.rows_deleted,
            "artifacts_deleted": report.artifacts_deleted}


@router.get("/athletes/{athlete_id}", response_model=s.AthleteOut)
def get_athlete(athlete_id: str, caller: CallerDep) -> s.AthleteOut:
    caller.check_read(athlete_id)
    return athlete_out(caller.runtime.app.athlete(athlete_id))


@router.patch(
    "/athletes/{athlete_id}/profile",
    response_model=s.AthleteOut,
    summary="Change the profile (an event; history keeps the old values)",
)
def update_profile(athlete_id: str, body: s.ProfilePatch, caller: CallerDep) -> s.AthleteOut:
    caller.check_write(athlete_id)
    app = caller.runtime.app
    current = app.athlete(athlete_id).profile.get("mass_unit")
    athlete = app.update_profile(
        caller.ctx,
        athlete_id,
        profile_changes(body, current),
        body.effective_at,
        access=caller.write_access,
    )
    return athlete_out(athlete)


@router.patch(
    "/athletes/{athlete_id}/settings",
    response_model=s.AthleteOut,
    summary="Change calculation settings (zones, thresholds, model choices)",
)
def change_settings(athlete_id: str, body: s.SettingsPatch, caller: CallerDep) -> s.AthleteOut:
    caller.check_write(athlete_id)
    athlete = caller.runtime.app.change_settings(
        caller.ctx, athlete_id, body.model_dump(exclude_unset=True), access=caller.write_access
    )
    return athlete_out(athlete)


@router.post("/athletes/{athlete_id}/tokens", status_code=201, response_model=s.TokenIssued)
def issue_athlete_token(athlete_id: str, body: s.TokenIn, caller: CallerDep) -> s.TokenIssued:
    caller.check_write(athlete_id)
    caller.runtime.app.athlete(athlete_id)
    check_text(body.label, "label", max_len=200)
    token_id, token = caller.runtime.tokens.issue("athlete", athlete_id, body.label)
    return s.TokenIssued(token_id=token_id, token=token)


@router.get("/athletes/{athlete_id}/tokens", response_model=list[s.TokenOut])
def list_athlete_tokens(athlete_id: str, caller: CallerDep) -> list[s.TokenOut]:
    caller.check_write(athlete_id)
    return [s.TokenOut(**vars(t)) for t in caller.runtime.tokens.list_for(athlete_id)]


@router.post(
    "/athletes/{athlete_id}/grants",
    status_code=201,
    response_model=s.AthleteOut,
    summary="Grant a coach read-only access",
)
def grant(athlete_id: str, body: s.GrantIn, caller: CallerDep) -> s.AthleteOut:
    caller.check_write(athlete_id)
    athlete = caller.runtime.app.grant_coach(
        caller.ctx, athlete_id, body.coach_id, access=caller.write_access
    )
    return athlete_out(athlete)


@router.delete(
    "/athletes/{athlete_id}/grants/{coach_id}",
    response_model=s.AthleteOut,
    summary="Revoke a coach's access",
)
def revoke_grant(athlete_id: str, coach_id: str, caller: CallerDep) -> s.AthleteOut:
    caller.check_write(athlete_id)
    athlete = caller.runtime.app.revoke_coach(
        caller.ctx, athlete_id, coach_id, access=caller.write_access
    )
    return athlete_out(athlete)


@router.post(
    "/athletes/{athlete_id}/grants/{coach_id}/planning",
    response_model=s.AthleteOut,
    summary="Let a coach with read access also plan: plans, objectives, conversions",
)
def grant_planning(athlete_id: str, coach_id: str, caller: CallerDep) -> s.AthleteOut:
    caller.check_write(athlete_id)
    return athlete_out(caller.runtime.app.grant_planning(
        caller.ctx, athlete_id, coach_id, access=caller.write_access))


@router.delete(
    "/athletes/{athlete_id}/grants/{coach_id}/planning",
    response_model=s.AthleteOut,
    summary="Take back a coach's planning (read access stays)",
)
def revoke_planning(athlete_id: str, coach_id: str, caller: CallerDep) -> s.AthleteOut:
    caller.check_write(athlete_id)
    return athlete_out(caller.runtime.app.revoke_planning(
        caller.ctx, athlete_id, coach_id, access=caller.write_access))


@router.post(
    "/athletes/{athlete_id}/exercises",
    status_code=201,
    response_model=s.ExerciseOut,
    summary="Define a custom exercise",
)
def define_exercise(athlete_id: str, body: s.ExerciseIn, caller: CallerDep) -> s.ExerciseOut:
    caller.check_write(athlete_id)
    exercise_id = caller.runtime.app.define_exercise(
        caller.ctx, athlete_id, body.name, body.category, access=caller.write_access
    )
    return s.ExerciseOut(id=exercise_id, name=body.name, category=body.category, custom=True)
