"""Coaches, tokens and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request

from services.api import schemas as s
from services.api.errors import ErrorOut
from services.api.qr import qr_svg
from services.api.security import Caller, CallerDep, RuntimeDep
from services.api.views import coach_out
from services.domain.errors import NotFound
from services.domain.validation import check_text
from services.tokens import device_label

router = APIRouter(tags=["access"])
sign_in_router = APIRouter(tags=["access"])  # public: the link's secret is the credential


@router.get("/me", response_model=s.WhoAmI, summary="Who the token belongs to")
def whoami(caller: CallerDep) -> s.WhoAmI:
    rows = caller.runtime.directory.list("athlete", newest_first=False, limit=10_000)
    visible = [r["entity_id"] for r in rows if caller.can_read(r["entity_id"])]
    return s.WhoAmI(
        role=caller.role, principal_id=caller.principal.principal_id, athlete_ids=visible
    )


@router.post(
    "/coaches",
    status_code=201,
    response_model=s.CoachCreated,
    summary="Create a coach account (admin) with its first token",
)
def create_coach(body: s.CoachIn, caller: CallerDep) -> s.CoachCreated:
    caller.require_admin()
    coach = caller.runtime.app.register_coach(caller.ctx, body.name)
    # a retry (same Idempotency-Key) replaces the first token: one stays live
    token_id, token = caller.runtime.tokens.reissue("coach", str(coach.id), "first token")
    return s.CoachCreated(coach=coach_out(coach), token_id=token_id, token=token)


def _check_coach_visible(caller: Caller, coach_id: str) -> None:
    """The admin sees every coach; a coach themself; an athlete the coaches they granted."""
    if caller.role == "admin" or caller.principal.principal_id == coach_id:
        return
    if caller.role == "athlete" and caller.principal.principal_id and coach_id in (
            caller.runtime.app.athlete(caller.principal.principal_id).coach_ids):
        return
    raise HTTPException(404, "no such coach")


@router.get("/coaches/{coach_id}", response_model=s.CoachOut,
            summary="A coach (the admin, the coach, and athletes who granted them access)")
def get_coach(coach_id: str, caller: CallerDep) -> s.CoachOut:
    _check_coach_visible(caller, coach_id)
    return coach_out(caller.runtime.app.coach(coach_id))


@router.post("/coaches/{coach_id}/tokens", status_code=201, response_model=s.TokenIssued)
def issue_coach_token(coach_id: str, body: s.TokenIn, caller: CallerDep) -> s.TokenIssued:
    if not (caller.role == "admin" or caller.principal.principal_id == coach_id):
        raise HTTPException(404, "no such coach")
    caller.runtime.app.coach(coach_id)
    check_text(body.label, "label", max_len=200)
    token_id, token = caller.runtime.tokens.issue("coach", coach_id, body.label)
    return s.TokenIssued(token_id=token_id, token=token)


@router.get("/coaches/{coach_id}/tokens", response_model=list[s.TokenOut],
            summary="A coach's tokens, without secrets (the admin, or the coach)")
def list_coach_tokens(coach_id: str, caller: CallerDep) -> list[s.TokenOut]:
    if not (caller.role == "admin" or caller.principal.principal_id == coach_id):
        raise HTTPException(404, "no such coach")
    caller.runtime.app.coach(coach_id)
    return [s.TokenOut(**vars(t)) for t in caller.runtime.tokens.list_for(coach_id)]


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
def revoke_token(token_id: str, caller: CallerDep) -> None:
    info = caller.runtime.tokens.get(token_id)
    owner = info is not None and info.principal_id == caller.principal.principal_id
    if info is None or not (caller.role == "admin" or owner):
        raise HTTPException(404, "no such token")
    if not caller.runtime.tokens.revoke(token_id):
        raise HTTPException(409, "the token is already revoked")


@router.get("/coaches/{coach_id}/athletes", response_model=list[s.RosterEntry],
            summary="A coach's roster: the athletes who granted access (the admin, the coach)")
def roster(coach_id: str, caller: CallerDep) -> list[s.RosterEntry]:
    if not (caller.role == "admin" or caller.principal.principal_id == coach_id):
        raise HTTPException(404, "no such coach")
    app = caller.runtime.app
    app.coach(coach_id)
    out = []
    for row in caller.runtime.directory.list("athlete", newest_first=False, limit=10_000):
        try:
            athlete = app.athlete(row["entity_id"])
        except NotFound:  # erased, rows not yet purged
            continue
        if coach_id in athlete.coach_ids:
            out.append(s.RosterEntry(athlete_id=str(athlete.id),
                                     name=str(athlete.profile.get("name") or ""),
                                     can_plan=coach_id in athlete.planners()))
    return out


@router.post("/athletes/{athlete_id}/sign-in-links", status_code=201,
             response_model=s.SignInLinkOut,
             summary="A one-time sign-in link for the athlete's device (the admin, the athlete, "
             "a coach with access), with its QR code; it expires after 15 minutes")
def issue_sign_in_link(athlete_id: str, request: Request,
                       caller: CallerDep) -> s.SignInLinkOut:
    caller.check_read(athlete_id)
    caller.runtime.app.athlete(athlete_id)
    who = f"{caller.role}:{caller.principal.principal_id or ''}"
    secret, expires = caller.runtime.tokens.issue_sign_in_link(athlete_id, who)
    url = f"{request.base_url}sign-in#{secret}"
    return s.SignInLinkOut(url=url, secret=secret, expires_at=expires, qr_svg=qr_svg(url))


@sign_in_router.post("/sign-in", status_code=201, response_model=s.SignedIn,
                     summary="Open a sign-in link: a device token of this device's own",
                     description="The secret travels in the body, so that it stays out of "
                     "URLs and access logs.",
                     responses={404: {"model": ErrorOut,
                                      "description": "Unknown, used or expired link"}})
def sign_in(body: s.SignInIn, runtime: RuntimeDep,
            user_agent: Annotated[str | None, Header()] = None) -> s.SignedIn:
    check_text(body.label, "label", max_len=200)
    label = body.label or device_label(user_agent, "sign-in link")
    redeemed = runtime.tokens.redeem_sign_in_link(body.secret, label)
    if redeemed is None:
        raise HTTPException(404, "this sign-in link is unknown, was used already or has "
                            "expired (a link opens once, within 15 minutes): ask for a new one")
    athlete_id, token_id, token = redeemed
    return s.SignedIn(athlete_id=athlete_id, token_id=token_id, token=token, label=label)


@router.post("/tokens/device", status_code=201, response_model=s.DeviceToken,
             summary="Exchange the caller's token for a device token of this device's own",
             description="A page signed in with a pasted token keeps only the device token, "
             "revocable on its own (signing out), never the pasted one; signing in again, it "
             "sends the device token it held (`replaces`), which is revoked.  The admin's "
             "device tokens end when the configured admin token changes.")
def device_token(body: s.DeviceIn, caller: CallerDep,
                 user_agent: Annotated[str | None, Header()] = None) -> s.DeviceToken:
    check_text(body.label, "label", max_len=200)
    label = body.label or device_label(user_agent, "signed in with a token")
    token_id, token, replaced = caller.runtime.tokens.issue_device(caller.principal, label,
                                                                  body.replaces)
    return s.DeviceToken(role=caller.role, principal_id=caller.principal.principal_id,
                         token_id=token_id, token=token, label=label, replaced=replaced)


@router.get("/me/tokens", response_model=list[s.TokenOut],
            summary="The caller's own tokens and devices, without secrets")
def my_tokens(caller: CallerDep) -> list[s.TokenOut]:
    owner = caller.runtime.tokens.owner_of(caller.principal)
    return [s.TokenOut(**vars(t)) for t in caller.runtime.tokens.list_for(owner)] if owner else []
