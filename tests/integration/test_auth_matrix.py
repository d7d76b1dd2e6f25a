"""Who may call what: every route of the app against every kind of caller, on both stores.

Public without a token: ``GET /health`` (liveness probe: its status only; the detail needs a
token, see ``test_exposure.py``) and FastAPI's documentation routes
(``/openapi.json``, ``/docs``, ``/docs/oauth2-redirect``, ``/redoc``), which describe the API
and hold no data, and the web pages with their static files (``/``, ``/log``, ``/static/...``),
which hold no data either (they call the API with the user's token).  Everything else needs a
bearer token.  The route list comes from the application itself, so a route added later fails
here until it is classified in ``ROUTES``.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from conftest import ADMIN, ADMIN_TOKEN, bearer, new_athlete
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from fit_fixtures import by_name
from support_archives import zipped

from projections.analytics import VIEWS
from services.api.app import create_app
from services.runtime import Runtime

SQUAT = "squat.back_squats"
DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
# the pages and their files (services/api/routes_dashboard)
PAGES = {"/", "/week", "/log", "/sign-in", "/devices", "/static"}
OK, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND = "2xx", 401, 403, 404

#: Callers.  ``owner`` is athlete A, whose data the world holds; ``other`` is athlete B;
#: ``coach`` was granted access by A, ``planner`` access and planning, ``stranger`` is a coach
#: A never granted.
ROLES = ("admin", "owner", "other", "coach", "planner", "stranger", "anonymous", "garbage",
         "revoked")
NO_VALID_TOKEN = ("anonymous", "garbage", "revoked")

#: What each kind of route answers to each caller with a valid token ("public" routes answer
#: everyone, even without a token; without a valid token, every other route answers 401).
EXPECT: dict[str, dict[str, str | int]] = {
    # about the caller or the shared catalogue
    "anyone": {"admin": OK, "owner": OK, "other": OK, "coach": OK, "planner": OK,
               "stranger": OK},
    "admin": {"admin": OK, "owner": FORBIDDEN, "other": FORBIDDEN, "coach": FORBIDDEN,
              "planner": FORBIDDEN, "stranger": FORBIDDEN},
    # A's data: readable by A, the admin and coaches A granted; others are told it does not exist
    "read": {"admin": OK, "owner": OK, "other": NOT_FOUND, "coach": OK, "planner": OK,
             "stranger": NOT_FOUND},
    # A's data, written: coaches are read-only
    "write": {"admin": OK, "owner": OK, "other": NOT_FOUND, "coach": FORBIDDEN,
              "planner": FORBIDDEN, "stranger": FORBIDDEN},
    # A's plans and objectives (plans, goals, conversions): also coaches A granted planning
    "plan": {"admin": OK, "owner": OK, "other": NOT_FOUND, "coach": FORBIDDEN,
             "planner": OK, "stranger": FORBIDDEN},
    # comments on A's sessions and weeks: whoever may read them
    "comment": {"admin": OK, "owner": OK, "other": NOT_FOUND, "coach": OK, "planner": OK,
                "stranger": NOT_FOUND},
    # erasing A: A or the admin (each erases a fresh athlete of their own, see test_access)
    "erase": {"admin": OK, "owner": OK, "other": NOT_FOUND, "coach": FORBIDDEN,
              "planner": FORBIDDEN, "stranger": FORBIDDEN},
    # A's tokens: not even granted coaches see them
    "private": {"admin": OK, "owner": OK, "other": NOT_FOUND, "coach": FORBIDDEN,
                "planner": FORBIDDEN, "stranger": FORBIDDEN},
    # a coach's (C's) profile: the admin, the coach, and athletes who granted them (#12)
    "coach-profile": {"admin": OK, "owner": OK, "other": NOT_FOUND, "coach": OK,
                      "planner": NOT_FOUND, "stranger": NOT_FOUND},
    # a coach's tokens, issued or listed, and their roster: the admin and the coach only
    "coach-tokens": {"admin": OK, "owner": NOT_FOUND, "other": NOT_FOUND, "coach": OK,
                     "planner": NOT_FOUND, "stranger": NOT_FOUND},
    # revoking A's token: the admin and A only
    "revoke-token": {"admin": OK, "owner": OK, "other": NOT_FOUND, "coach": NOT_FOUND,
                     "planner": NOT_FOUND, "stranger": NOT_FOUND},
}
#: Kinds whose 2xx answers change state: those get fresh targets, so tests stay independent.
WRITES = {"admin", "write", "plan", "comment", "coach-tokens", "revoke-token", "erase"}


@dataclass(frozen=True)
class Spec:
    kind: str
    body: dict[str, Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    files: bool = False  # a multipart upload of one real FIT file


FIT_FILE = by_name("ride").data  # a device file of our own (fit_fixtures)
A = "/athletes/{athlete_id}"
PLAN = A + "/plans/{week_start}"
ROUTES: dict[tuple[str, str], Spec] = {
    ("GET", "/health"): Spec("public"),
    ("GET", "/me"): Spec("anyone"),
    ("GET", "/athletes"): Spec("anyone"),
    ("GET", "/exercises/{exercise_id}"): Spec("anyone"),
    ("GET", "/exercises"): Spec("read", query={"q": "squat", "athlete_id": "{athlete_id}"}),
    ("POST", "/athletes"): Spec("admin", {"name": "Newcomer {unique}"}),
    ("POST", "/coaches"): Spec("admin", {"name": "Coach {unique}"}),
    ("GET", "/coaches/{coach_id}"): Spec("coach-profile"),
    ("POST", "/coaches/{coach_id}/tokens"): Spec("coach-tokens", {"label": "tablet"}),
    ("GET", "/coaches/{coach_id}/tokens"): Spec("coach-tokens"),
    ("DELETE", "/tokens/{token_id}"): Spec("revoke-token"),
    ("GET", A): Spec("read"),
    ("PATCH", A + "/profile"): Spec("write", {"max_hr": 190}),
    ("PATCH", A + "/settings"): Spec("write", {"atl_days": 8}),
    ("POST", A + "/tokens"): Spec("write", {"label": "laptop"}),
    ("GET", A + "/tokens"): Spec("private"),
    ("POST", A + "/grants"): Spec("write", {"coach_id": "{new_coach_id}"}),
    ("DELETE", A + "/grants/{coach_id}"): Spec("write"),
    ("POST", A + "/exercises"): Spec("write", {"name": "Move {unique}", "category": "squat"}),
    ("POST", A + "/goals"): Spec("plan", {"title": "Goal", "metric": {"kind": "body_mass"},
                                           "target_value": 70}),
    ("GET", A + "/goals"): Spec("read"),
    ("GET", "/goals/{goal_id}"): Spec("read"),
    ("PATCH", "/goals/{goal_id}"): Spec("plan", {"target_value": 68}),
    ("POST", "/goals/{goal_id}/achieve"): Spec("plan", {}),
    ("POST", "/goals/{goal_id}/abandon"): Spec("plan", {}),
    ("POST", A + "/plans"): Spec("plan", {"week_start": "{new_week}"}),
    ("GET", A + "/plans"): Spec("read"),
    ("GET", PLAN): Spec("read"),
    ("POST", PLAN + "/sessions"): Spec("plan", {"role": "volume"}),
    ("POST", PLAN + "/sessions/{planned_session_id}/cancel"): Spec("plan", {}),
    ("POST", PLAN + "/sessions/{planned_session_id}/convert"): Spec(
        "plan", {"objective_id": "{goal_id}", "force": True, "reason": "matrix"}),
    ("PATCH", PLAN + "/sessions/{planned_session_id}"): Spec("plan", {"title": "T {unique}"}),
    ("GET", PLAN + "/history"): Spec("read"),
    ("GET", PLAN + "/workouts.zip"): Spec("read"),
    ("PUT", PLAN + "/sessions/{planned_session_id}/prescription"): Spec("plan", {"steps": [
        {"kind": "strength", "exercise_id": SQUAT, "sets": 3, "reps": 5, "load": 60}]}),
    ("POST", PLAN + "/comments"): Spec("comment", {"text": "Good week"}),
    ("GET", A + "/week-template"): Spec("read"),
    ("PUT", A + "/week-template"): Spec("plan", {"sessions": [{"role": "volume", "day": 6}]}),
    ("POST", A + "/grants/{coach_id}/planning"): Spec("write"),
    ("DELETE", A + "/grants/{coach_id}/planning"): Spec("write"),
    ("GET", "/coaches/{coach_id}/athletes"): Spec("coach-tokens"),
    ("POST", A + "/sign-in-links"): Spec("comment"),  # whoever may read A
    ("POST", "/sign-in"): Spec("public", {"secret": "{secret}"}),  # fresh each time (fresh)
    ("POST", "/tokens/device"): Spec("anyone", {"label": "matrix"}),
    ("GET", "/me/tokens"): Spec("anyone"),
    ("POST", "/sessions/{session_id}/comments"): Spec("comment", {"text": "Nice depth"}),
    ("POST", A + "/check-ins"): Spec("write", {"observed_at": "{an_hour_ago}", "values": [
        {"metric": "sleep_hours", "value": 7, "unit": "h"}]}),
    ("POST", A + "/sessions"): Spec("write", {"started_at": "{an_hour_ago}"}),
    ("GET", A + "/sessions"): Spec("read"),
    ("GET", "/sessions/{session_id}"): Spec("read"),
    ("GET", "/sessions/{session_id}/laps"): Spec("read"),
    ("PATCH", "/sessions/{session_id}"): Spec("write", {"notes": "felt good"}),
    ("POST", "/sessions/{session_id}/end"): Spec("write", {"session_rpe": 7}),
    ("POST", "/sessions/{session_id}/link"): Spec("write", {"objective_id": "{goal_id}"}),
    ("POST", "/sessions/{session_id}/discard"): Spec("write", {}),
    ("POST", "/sessions/{session_id}/sets"): Spec("write", {"exercise_id": SQUAT, "reps": 3}),
    ("PATCH", "/sessions/{session_id}/sets/{set_id}"): Spec("write", {"reps": 4}),
    ("DELETE", "/sessions/{session_id}/sets/{set_id}"): Spec("write"),
    ("POST", A + "/observations"): Spec("write", {"metric": "sleep_hours", "value": 7,
                                                  "unit": "h", "observed_at": "{an_hour_ago}"}),
    ("GET", A + "/observations"): Spec("read"),
    ("DELETE", A): Spec("erase"),
    ("GET", "/observations/{observation_id}"): Spec("read"),
    ("PATCH", "/observations/{observation_id}"): Spec("write", {"value": 79, "unit": "kg"}),
    ("DELETE", "/observations/{observation_id}"): Spec("write"),
    ("POST", A + "/imports"): Spec("write", {"sessions": [{"started_at": "{an_hour_ago}"}]}),
    ("GET", "/imports/{import_id}"): Spec("read"),
    ("POST", A + "/imports/fit"): Spec("write", files=True),
    ("POST", A + "/archives"): Spec("write", {"size": 1000}),
    ("GET", "/archives/{upload_id}"): Spec("read"),
    ("PUT", "/archives/{upload_id}"): Spec("write", {"part": 1}),  # 12 bytes of JSON
    ("POST", "/archives/{upload_id}/finish"): Spec("write"),  # a complete upload (fresh)
    ("DELETE", "/archives/{upload_id}"): Spec("write"),
    **{("GET", A + f"/views/{name}"): Spec("read") for name in VIEWS},
    ("GET", A + "/revision"): Spec("read"),  # polled by the dashboard
    # audit and export ({view}: a view name, see World.values)
    ("GET", A + "/events"): Spec("read", query={"type": "SetLogged", "limit": "10"}),
    ("GET", A + "/views/{view}/explain"): Spec("read"),
    ("GET", A + "/export/events.jsonl"): Spec("read"),
    ("GET", A + "/export/{view}.csv"): Spec("read"),
}


def declared_routes(app: FastAPI) -> tuple[set[tuple[str, str]], set[str]]:
    """(method, path) of every API route, and the paths of the other (documentation) routes."""
    api, other = set(), set()
    for context in iter_route_contexts(app.routes):
        path = cast(str, context.path)
        if isinstance(context.original_route, APIRoute):
            api |= {(m, path) for m in context.methods or ()}
        else:
            other.add(path)
    return api, other


# The routes do not depend on the store: an app without one lists them for parametrize.
APP_ROUTES = sorted(declared_routes(create_app(cast(Runtime, None)))[0], key=lambda r: r[::-1])




def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).replace(microsecond=0).isoformat()


def created(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), response.text
    return dict(response.json())


_weeks = itertools.count(1)


def unused_monday() -> str:
    """A Monday in the past that no test planned yet."""
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    return (monday - timedelta(weeks=next(_weeks))).isoformat()


@dataclass
class World:
    """Athlete A with a session (and a set), a goal, a plan and an observation; athlete B;
    coach C (granted by A) and coach S (never granted); headers for every caller."""

    client: TestClient
    headers: dict[str, dict[str, str]]
    tokens: dict[str, str]  # plaintext tokens issued while building the world
    values: dict[str, str]  # path and body placeholders, filled from A's data

    @property
    def owner(self) -> dict[str, str]:
        return self.headers["owner"]

    def session(self) -> dict[str, str]:
        s = created(self.client.post(
            f"/athletes/{self.values['athlete_id']}/sessions",
            json={"started_at": ago(hours=2), "sets": [{"exercise_id": SQUAT, "reps": 5}]},
            headers=self.owner))
        return {"session_id": s["session_id"], "set_id": s["sets"][0]["set_id"]}

    def goal(self) -> dict[str, str]:
        g = created(self.client.post(f"/athletes/{self.values['athlete_id']}/goals", json={
            "title": "Squat 140", "metric": {"kind": "e1rm", "exercise_id": SQUAT},
            "target_value": 140}, headers=self.owner))
        return {"goal_id": g["goal_id"]}

    def plan(self) -> dict[str, str]:
        p = created(self.client.post(f"/athletes/{self.values['athlete_id']}/plans",
                                     json={"week_start": unused_monday()}, headers=self.owner))
        volume = next(s for s in p["sessions"] if s["role"] == "volume")
        return {"week_start": p["week_start"], "planned_session_id": volume["planned_session_id"]}

    def observation(self) -> dict[str, str]:
        o = created(self.client.post(f"/athletes/{self.values['athlete_id']}/observations", json={
            "metric": "body_mass", "value": 80, "unit": "kg", "observed_at": ago(hours=3)},
            headers=self.owner))
        return {"observation_id": o["observation_id"]}

    def coach(self, granted: bool = False, planning: bool = False) -> dict[str, str]:
        c = created(self.client.post("/coaches", json={"name": "C"}, headers=ADMIN))
        coach_id = c["coach"]["coach_id"]
        self.tokens[f"coach {coach_id}"] = c["token"]
        if granted:
            created(self.client.post(f"/athletes/{self.values['athlete_id']}/grants",
                                     json={"coach_id": coach_id}, headers=self.owner))
        if planning:
            created(self.client.post(f"/athletes/{self.values['athlete_id']}/grants/"
                                     f"{coach_id}/planning", headers=self.owner))
        return {"coach_id": coach_id, "coach_token": c["token"]}

    def import_(self) -> dict[str, str]:
        i = created(self.client.post(f"/athletes/{self.values['athlete_id']}/imports", json={
            "sessions": [{"started_at": ago(hours=5)}]}, headers=self.owner))
        return {"import_id": i["import_id"]}

    def upload(self, complete: bool = False) -> dict[str, str]:
        """An archive upload of A's: empty, or holding a whole archive of one FIT file."""
        archive = zipped({"activities/ride.fit": FIT_FILE})
        u = created(self.client.post(f"/athletes/{self.values['athlete_id']}/archives",
                                     json={"size": len(archive) if complete else 1000},
                                     headers=self.owner))
        if complete:
            created(self.client.put(f"/archives/{u['upload_id']}", content=archive,
                                    headers=self.owner))
        return {"upload_id": u["upload_id"]}

    def token(self) -> dict[str, str]:
        t = created(self.client.post(f"/athletes/{self.values['athlete_id']}/tokens",
                                     json={"label": "spare"}, headers=self.owner))
        self.tokens[f"spare {t['token_id']}"] = t["token"]
        return {"token_id": t["token_id"]}

    def fresh(self, placeholders: set[str], path: str) -> dict[str, str]:
        """New targets for a write that will succeed, so that no test depends on another."""
        values = dict(self.values)
        values["unique"] = uuid.uuid4().hex[:8]
        if placeholders & {"session_id", "set_id"}:
            values |= self.session()
        if placeholders & {"goal_id"}:
            values |= self.goal()
        if placeholders & {"week_start", "planned_session_id"}:
            values |= self.plan()
        if "new_week" in placeholders:
            values["new_week"] = unused_monday()
        if "observation_id" in placeholders:
            values |= self.observation()
        if "new_coach_id" in placeholders:
            values["new_coach_id"] = self.coach()["coach_id"]
        if "coach_id" in placeholders and path.startswith("/athletes/"):  # revoking a grant
            values["coach_id"] = self.coach(granted=True,
                                            planning=path.endswith("/planning"))["coach_id"]
        if "token_id" in placeholders:
            values |= self.token()
        if "upload_id" in placeholders:
            values |= self.upload(complete=path.endswith("/finish"))
        if "secret" in placeholders:
            values["secret"] = created(self.client.post(
                f"/athletes/{self.values['athlete_id']}/sign-in-links", headers=ADMIN))["secret"]
        return values


@pytest.fixture(scope="module")
def world(client: TestClient) -> World:
    a_id, a_token = new_athlete(client, "A")
    _, b_token = new_athlete(client, "B")
    w = World(client, {}, {"owner": a_token, "other": b_token}, {})
    w.headers = {"admin": ADMIN, "owner": bearer(a_token), "other": bearer(b_token),
                 "anonymous": {}, "garbage": bearer("tlk_not-a-token")}
    w.values = {"athlete_id": a_id, "exercise_id": SQUAT, "an_hour_ago": ago(hours=1),
                "unique": "x", "view": "strength"}
    coach = w.coach(granted=True)
    planner = w.coach(granted=True, planning=True)
    stranger = w.coach()
    w.headers |= {"coach": bearer(coach["coach_token"]),
                  "planner": bearer(planner["coach_token"]),
                  "stranger": bearer(stranger["coach_token"])}
    revoked = created(client.post(f"/athletes/{a_id}/tokens", json={"label": "lost phone"},
                                  headers=w.owner))
    assert client.delete(f"/tokens/{revoked['token_id']}", headers=w.owner).status_code == 204
    w.headers["revoked"] = bearer(revoked["token"])
    w.tokens["revoked"] = revoked["token"]
    w.values |= {"coach_id": coach["coach_id"], "new_coach_id": w.coach()["coach_id"],
                 "new_week": unused_monday()}
    w.values |= (w.session() | w.goal() | w.plan() | w.observation() | w.token() | w.import_()
                 | w.upload())
    return w


def state(runtime: Runtime) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
    """Everything a request could change: the event log's end, tokens and import requests."""
    tokens = runtime.tables.query(
        f"SELECT * FROM {runtime.tables.name('tl_tokens')} ORDER BY token_id")
    imports = runtime.tables.query(
        f"SELECT import_id FROM {runtime.tables.name('tl_imports')} ORDER BY import_id")
    return runtime.app.recorder.max_notification_id() or 0, tokens, imports


def fill(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str):
        return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    return template


def placeholders(*templates: Any) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", repr(templates)))


# ------------------------------------------------------------------ the matrix


def test_every_route_is_classified(client: TestClient) -> None:
    api, other = declared_routes(cast(FastAPI, client.app))
    assert sorted(api - set(ROUTES)) == [], "classify the new routes in ROUTES"
    assert sorted(set(ROUTES) - api) == [], "these classified routes no longer exist"
    assert other == DOCS | PAGES


@pytest.mark.parametrize("path", sorted(DOCS))
def test_documentation_is_public(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/", "/week", "/log", "/sign-in", "/devices",
                                  "/static/dashboard.js", "/static/sign-in.js",
                                  "/static/week.js", "/static/readiness.js",
                                  "/static/vendor/uPlot.iife.min.js"])
def test_pages_are_public(client: TestClient, path: str) -> None:
    """The dashboard's pages and files need no token: they hold no data."""
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", APP_ROUTES, ids=[f"{m} {p}" for m, p in APP_ROUTES])
def test_access(client: TestClient, runtime: Runtime, world: World, route: tuple[str, str],
                role: str) -> None:
    spec = ROUTES.get(route)
    assert spec is not None, f"unclassified route {route}: add it to ROUTES"
    method, path = route
    if spec.kind == "public":
        expected: str | int = OK
    elif role in NO_VALID_TOKEN:
        expected = UNAUTHENTICATED
    else:
        expected = EXPECT[spec.kind][role]
    needed = placeholders(path, spec.body, spec.query)
    succeeds_and_writes = expected == OK and spec.kind in WRITES
    values = (world.fresh(needed, path) if succeeds_and_writes or "secret" in needed
              else world.values)
    headers = world.headers[role]
    if spec.kind == "erase" and expected == OK:  # never erase the world's athlete A
        fresh_id, fresh_token = new_athlete(client, "Erased")
        values = {**values, "athlete_id": fresh_id}
        headers = {"Authorization": f"Bearer {fresh_token}"} if role == "owner" else headers

    before = state(runtime)
    response = client.request(
        method, fill(path, values), params=fill(spec.query, values),
        json=fill(spec.body, values) if spec.body is not None else None,
        files=[("files", ("ride.fit", FIT_FILE))] if spec.files else None,
        headers=headers)
    status = response.status_code
    assert status < 500, response.text
    if expected == OK:
        assert 200 <= status < 300, f"{role} {method} {path}: {status} {response.text}"
    else:
        assert status == expected, f"{role} {method} {path}: {status} {response.text}"
        assert state(runtime) == before, f"{role} changed something with {method} {path}"
    if spec.kind not in WRITES and method == "GET":
        assert state(runtime) == before, "a read wrote something"
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_lists_show_only_athletes_the_caller_may_read(client: TestClient, world: World) -> None:
    a_id = world.values["athlete_id"]
    for role, sees_a in [("admin", True), ("owner", True), ("coach", True), ("other", False),
                         ("stranger", False)]:
        me = client.get("/me", headers=world.headers[role]).json()
        listed = [x["athlete_id"] for x in
                  client.get("/athletes", headers=world.headers[role]).json()]
        assert (a_id in me["athlete_ids"]) is sees_a, role
        assert (a_id in listed) is sees_a, role
        assert sorted(me["athlete_ids"]) == sorted(listed), role
    assert client.get("/me", headers=world.headers["other"]).json()["athlete_ids"] != []
    assert client.get("/me", headers=world.headers["stranger"]).json()["athlete_ids"] == []


def test_revoking_the_grant_removes_the_coachs_read_access(client: TestClient,
                                                          world: World) -> None:
    coach = world.coach(granted=True)
    headers = bearer(coach["coach_token"])
    reads = [(m, p, s) for (m, p), s in ROUTES.items() if s.kind == "read"]

    def statuses() -> set[int]:
        return {client.request(m, fill(p, world.values), params=fill(s.query, world.values),
                               headers=headers).status_code for m, p, s in reads}

    assert statuses() == {200}
    a_id = world.values["athlete_id"]
    revoked = client.delete(f"/athletes/{a_id}/grants/{coach['coach_id']}", headers=world.owner)
    assert revoked.status_code == 200, revoked.text
    assert coach["coach_id"] not in revoked.json()["coach_ids"]
    assert statuses() == {404}
    assert client.get("/me", headers=headers).json()["athlete_ids"] == []


def test_a_revoked_token_stays_revoked_and_others_keep_working(client: TestClient,
                                                               world: World) -> None:
    spare = world.token()
    token = world.tokens[f"spare {spare['token_id']}"]
    assert client.get("/me", headers=bearer(token)).status_code == 200
    # B cannot revoke A's token; A can, once
    assert client.delete(f"/tokens/{spare['token_id']}",
                         headers=world.headers["other"]).status_code == 404
    assert client.delete(f"/tokens/{spare['token_id']}", headers=world.owner).status_code == 204
    assert client.delete(f"/tokens/{spare['token_id']}", headers=world.owner).status_code == 409
    assert client.get("/me", headers=bearer(token)).status_code == 401
    assert client.get("/me", headers=world.owner).status_code == 200
    listed = client.get(f"/athletes/{world.values['athlete_id']}/tokens",
                        headers=world.owner).json()
    assert next(t for t in listed if t["token_id"] == spare["token_id"])["revoked_at"]


# ------------------------------------------------------------------ tokens at rest


def test_tokens_are_stored_hashed(runtime: Runtime, world: World) -> None:
    rows = runtime.tables.query(f"SELECT * FROM {runtime.tables.name('tl_tokens')}")
    stored = repr(rows)
    assert len(world.tokens) >= 5
    for token in world.tokens.values():
        assert token not in stored
        assert token[4:] not in stored  # not even without its prefix
        assert hashlib.sha256(token.encode()).hexdigest() in {r["token_hash"] for r in rows}
    assert ADMIN_TOKEN not in stored


def test_no_event_contains_a_token(runtime: Runtime, world: World) -> None:
    notifications = runtime.app.recorder.select_notifications(start=1, limit=1_000_000)
    assert len(notifications) > 10
    payloads = [n.state.decode("utf-8", "replace") for n in notifications]
    for token in [*world.tokens.values(), ADMIN_TOKEN]:
        assert not any(token in p or token[4:] in p for p in payloads)
    assert not any(re.search(r"tl[akc]_[\w-]{20,}", p) for p in payloads)


def test_events_record_who_wrote_them(runtime: Runtime, world: World) -> None:
    """Events carry the principal and the token id used, never the token itself."""
    session_id = uuid.UUID(world.values["session_id"])
    source = next(iter(runtime.app.events.get(session_id))).source
    assert source["kind"] == "athlete"
    assert source["principal_id"] == world.values["athlete_id"]
    listed = [t.token_id for t in runtime.tokens.list_for(world.values["athlete_id"])]
    assert source["token_id"] in listed

