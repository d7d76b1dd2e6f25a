"""Who is calling: bearer-token authentication, access rules and the command context.

Rules: the admin may do everything; an athlete reads and writes only their own data; a
coach reads the data of athletes who granted them access, plans for those who also granted
planning (plans, objectives, conversions), comments, and writes nothing else.  Another
athlete's data answers 404, as if it did not exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated
from uuid import NAMESPACE_URL, uuid5

from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.application import ANYONE, Access
from services.domain.base import Context, Source
from services.domain.errors import NotFound
from services.runtime import Runtime
from services.tokens import Principal

bearer = HTTPBearer(auto_error=False, description="A token issued by trainledger")
MAX_KEY_LENGTH = 200


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@dataclass(frozen=True)
class Caller:
    principal: Principal
    runtime: Runtime
    ctx: Context

    @property
    def role(self) -> str:
        return self.principal.role

    @property
    def write_access(self) -> Access:
        if self.role == "admin":
            return ANYONE
        if self.role == "athlete" and self.principal.principal_id:
            return Access(frozenset({self.principal.principal_id}))
        return Access(frozenset())

    def require_admin(self) -> None:
        if self.role != "admin":
            raise HTTPException(403, "only the admin may do this")

    def require_writer(self) -> None:
        if self.role == "coach":
            raise HTTPException(403, "coaches have read-only access")

    def can_read(self, athlete_id: str) -> bool:
        if self.role == "admin" or (
            self.role == "athlete" and self.principal.principal_id == athlete_id
        ):
            return True
        if self.role == "coach":
            try:
                athlete = self.runtime.app.athlete(athlete_id)
            except NotFound:
                return False
            return self.principal.principal_id in athlete.coach_ids
        return False

    def check_read(self, athlete_id: str, what: str = "athlete") -> None:
        if not self.can_read(athlete_id):
            raise NotFound(f"no such {what}")
        if self.role == "admin":  # others can only read athletes that exist
            self.runtime.app.athlete(athlete_id)

    def check_write(self, athlete_id: str, what: str = "athlete") -> None:
        self.require_writer()
        self.write_access.check(athlete_id, what)
        if self.role == "admin":
            self.runtime.app.athlete(athlete_id)

    def plan_access(self, athlete_id: str, what: str = "plan") -> Access:
        """The access for a planning write (plans, objectives, conversions): the athlete's,
        the admin's, or a coach's the athlete granted planning."""
        if self.role != "coach":
            self.check_write(athlete_id, what)
            return self.write_access
        try:
            athlete = self.runtime.app.athlete(athlete_id)
        except NotFound:
            athlete = None
        if athlete is None or self.principal.principal_id not in athlete.planners():
            raise HTTPException(403, "this coach may not plan for the athlete: the athlete "
                                "can grant planning")
        return Access(frozenset({athlete_id}))

    def check_comment(self, athlete_id: str, what: str = "athlete") -> None:
        """Comments: whoever may read the athlete's data."""
        self.check_read(athlete_id, what)


async def _body_bytes(request: Request) -> bytes:
    """The request body, for the fingerprint. A form (the FIT upload) has already been parsed
    from the stream, which keeps no bytes: its fields and each file's name and SHA-256 then."""
    try:
        return await request.body()
    except RuntimeError:  # "Stream consumed"
        form = await request.form()
    parts: list[bytes] = []
    for key, value in form.multi_items():
        if isinstance(value, str):
            parts.append(f"{key}={value}".encode())
            continue
        digest = hashlib.sha256()
        while chunk := await value.read(1 << 20):
            digest.update(chunk)
        await value.seek(0)
        parts.append(f"{key}:{value.filename}:{digest.hexdigest()}".encode())
    return b"\n".join(parts)


async def principal_of(runtime: Runtime,
                       credentials: HTTPAuthorizationCredentials | None) -> Principal | None:
    """Whose the bearer token is; None without a token or for an invalid or revoked one."""
    if credentials is None:
        return None
    token = credentials.credentials
    return runtime.tokens.cached(token) or await run_in_threadpool(
        runtime.tokens.authenticate, token)


async def get_caller(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    idempotency_key: Annotated[
        str | None,
        Header(description="Retrying a request with the same key applies it once"),
    ] = None,
) -> Caller:
    if credentials is None:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    principal = await principal_of(runtime, credentials)
    if principal is None:
        raise HTTPException(401, "invalid or revoked token", headers={"WWW-Authenticate": "Bearer"})
    source = Source(
        kind=principal.role, principal_id=principal.principal_id, token_id=principal.token_id
    )
    request_id = fingerprint = None
    if idempotency_key is not None:
        if not 1 <= len(idempotency_key) <= MAX_KEY_LENGTH:
            raise HTTPException(400, f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
        who = f"{principal.role}:{principal.principal_id}"
        request_id = str(uuid5(NAMESPACE_URL, f"trainledger:request:{who}:{idempotency_key}"))
        body = await _body_bytes(request)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        fingerprint = hashlib.sha256(
            request.method.encode() + b" " + target.encode() + b"\n" + body
        ).hexdigest()[:32]
    return Caller(principal, runtime, Context(source, request_id, fingerprint))


CallerDep = Annotated[Caller, Depends(get_caller)]
