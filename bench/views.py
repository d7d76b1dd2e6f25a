"""Analytic views through the HTTP API: how their cost grows with the athlete's history.

    python -m bench.views [--quick] [--years 1w 1 10] [--rounds N] [--as-of-rounds N]
                          [--budget S] [--database-url postgresql://...] [--json OUT]

One athlete per history length (default 1 week, 1 year and 10 years; ``--quick``: 1 week and
1 year; ``--years`` takes years, or weeks with a ``w``), each in a store of its own (a
temporary SQLite directory, or with ``--database-url`` a PostgreSQL schema of its own, dropped
at the end), served by ``create_app(open_runtime(...))`` through an in-process
``httpx.AsyncClient(transport=ASGITransport(app))``, with the log feed worker running as
``trainledger serve`` runs it.

**History** (written through the domain model and saved by the application in batches of 13
weeks, every event recorded as if entered on its day, ``Context.recorded_at``, as
``services/demo.py`` does; not through HTTP): the athlete is registered the day before the
first week, sets three e1RM goals (squat, bench press, deadlift) and a body-mass goal; each
week is planned (3 training slots tied to the e1RM goals + 1 volume slot) and holds four
sessions of 12 sets (the goal's lift with rising loads and RPE plus two accessories; volume:
four accessories), each ended with its session RPE; resting HR and HRV four mornings a week,
body mass twice.  About 67 events a week; the last week is the one before the current one.
The longest history is written a second time, **newest first** (weeks in reverse, and the
sessions and observations within each week too, all recorded now with their past
``occurred_at``: an archive import), into a store of its own.

**Measured, per athlete, in one run:**

- *catch-up*: the first catch-up of every fed view after the history was written
  (``rt.feed.catch_up_all()`` then ``rt.feed.idle()`` until ``rt.feed.lag()`` is all zero),
  then again after ``projections.base.forget`` of every fed view, within the budget; the
  median divided by the stored events is the *projection cost per event*, in wall time and
  in this process's CPU time (``time.process_time``: what other processes on the machine
  do doesn't count; the targets use it).
- *view reads*: rounds of ``GET /health`` (the floor: framework and client, no view) and
  ``GET /athletes/{id}/views/NAME`` for the seven views in sequence; median and p95 of each,
  and of the *dashboard* (the seven reads of a round together).
- *as_of reads*: each view with ``as_of=`` the day in the middle of the history.
- *set-to-view*: a session started today through the API and 10 sets logged into it
  (``POST /sessions/{id}/sets``), each heavier than anything before; from the 201 of the
  10th set until ``GET /health`` shows no lag for any view and ``GET .../views/strength``
  names the 10th set (polled every millisecond).  Median of 5 runs.
- for the newest-first history only the catch-up, against the chronological one.

A short unreported history first warms the process up.  Histories are written and caught up
one after the other; then every store stays open with its feed worker, and the read rounds,
the as_of rounds and the set-to-view runs take the athletes in turn (alternating order), so
that machine noise (and garbage collection of a big heap) hits every history alike.

Growth is read as ratios: each figure of the longest history / the 1-week one (the 1-week
set-to-view counts as at least 50 ms).  The targets section prints PASS/FAIL, informative
(the exit code is 0): view reads and set-to-view at the longest history within 1.5x of 1
week; dashboard p95 < 100 ms at the longest; projection cost per event within 1.5x of 1 week;
every view read p95 < 20 ms and set-to-view < 100 ms; newest-first catch-up per event within
1.5x of chronological.

Slow cases are capped: each group of repetitions (read rounds, as_of rounds, catch-ups)
stops early once it has used ``--budget`` seconds (at least 5 read rounds, 3 as_of rounds,
1 catch-up); the repetitions used are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import httpx
import psycopg
from psycopg import sql

warnings.filterwarnings("ignore", message=".*httpx2.*")

from projections.base import forget  # noqa: E402
from services.api.app import create_app  # noqa: E402
from services.config import Settings  # noqa: E402
from services.domain.base import Context, Source  # noqa: E402
from services.domain.observation import Observation  # noqa: E402
from services.domain.plan import WeeklyPlan  # noqa: E402
from services.domain.session import TrainingSession  # noqa: E402
from services.domain.weeks import week_start  # noqa: E402
from services.runtime import Runtime, open_runtime  # noqa: E402
from services.workers import Workers  # noqa: E402

VIEWS = ("load", "strength", "fatigue", "recovery", "goals", "execution", "readiness")
ADMIN_TOKEN = "tla_bench-views-admin-token"
TZ = "Europe/London"
PROFILE: dict[str, Any] = {"name": "Bench Athlete", "sex": "male", "birth_year": 1990,
                           "body_mass_kg": 82.0, "max_hr": 188, "resting_hr": 54,
                           "timezone": TZ}
SQUAT, BENCH, DEADLIFT = ("squat.back_squats", "bench_press.barbell_bench_press",
                          "deadlift.barbell_deadlift")
MAIN = ((SQUAT, 100.0, 0), (BENCH, 70.0, 2), (DEADLIFT, 130.0, 4))  # lift, top kg, weekday
ACCESSORIES = (("lunge.dumbbell_bulgarian_split_squat", 20.0, 10),
               ("row.bent_over_row_with_barbell", 60.0, 10),
               ("pull_up.chin_up", 0.0, 8),
               ("shoulder_press.overhead_dumbbell_press", 20.0, 10),
               ("hip_raise.barbell_hip_thrust_on_floor", 80.0, 12))
BATCH_WEEKS = 13
SETS_TO_VIEW_RUNS = 5
SETS_PER_RUN = 10
SET_TO_VIEW_FLOOR = 0.050  # a 1-week set-to-view under 50 ms counts as 50 ms in ratios
SET_TO_VIEW_TIMEOUT = 60.0
TOLERANCE = 1.5


# --------------------------------------------------------------------------- histories


@dataclass(frozen=True)
class Spec:
    label: str
    weeks: int
    newest_first: bool = False


def parse_length(token: str) -> Spec:
    """``1w`` (weeks) or ``10`` / ``0.5`` (years) as a history of whole weeks."""
    if token.endswith("w"):
        weeks = int(token[:-1])
        return Spec(f"{weeks} week" + ("s" if weeks != 1 else ""), weeks)
    years = float(token)
    weeks = max(1, round(years * 365.25 / 7))
    return Spec(f"{years:g} year" + ("s" if years != 1 else ""), weeks)


class Writer:
    """One athlete's history: aggregates built by the domain model, saved in batches."""

    def __init__(self, rt: Runtime, weeks: int, newest_first: bool, seed: int) -> None:
        self.rt = rt
        self.weeks = weeks
        self.newest_first = newest_first
        self.rng = random.Random(seed)
        self.zone = ZoneInfo(TZ)
        last_monday = week_start(datetime.now(self.zone).date()) - timedelta(weeks=1)
        self.first_monday = last_monday - timedelta(weeks=weeks - 1)
        self.max_load = 0.0
        self.athlete_id = ""
        self.goals: list[str] = []

    def at(self, day: date, hour: float) -> datetime:
        local = datetime.combine(day, clock_time(int(hour), int(hour % 1 * 60)), self.zone)
        return local.astimezone(UTC)

    def ctx(self, moment: datetime) -> Context:
        source = Source("system", principal_id="bench-views")
        # newest first: an archive imported now, its facts back-dated by occurred_at only
        return Context(source, recorded_at=None if self.newest_first else moment)

    def write(self) -> None:
        app = self.rt.app
        eve = self.first_monday - timedelta(days=1)
        athlete = app.register_athlete(self.ctx(self.at(eve, 12)), PROFILE)
        self.athlete_id = aid = str(athlete.id)
        deadline = datetime.now(UTC).date() + timedelta(weeks=26)
        for lift, top, _ in MAIN:
            self.goals.append(str(app.set_goal(
                self.ctx(self.at(eve, 13)), aid, title=f"{lift} e1RM",
                metric={"kind": "e1rm", "exercise_id": lift}, direction="increase",
                target_value=round(top * 1.6), unit="kg", deadline=deadline,
                start_value=top * 1.15, notes=None).id))
        app.set_goal(self.ctx(self.at(eve, 13)), aid, title="Body mass 78 kg",
                     metric={"kind": "body_mass"}, direction="decrease", target_value=78.0,
                     unit="kg", deadline=deadline, start_value=82.0, notes=None)
        order = range(self.weeks - 1, -1, -1) if self.newest_first else range(self.weeks)
        batch: list[Any] = []
        for n, week in enumerate(order, 1):
            made = self.week(week)
            # newest first: the week's plan, then its sessions and observations, latest first
            batch.extend([made[0], *reversed(made[1:])] if self.newest_first else made)
            if n % BATCH_WEEKS == 0 or n == self.weeks:
                app.save(*batch)
                batch = []

    def top(self, base: float, week: int) -> float:
        """A lift's top load: slow gains over the years, a deload every fourth week."""
        gain = 1.0 + 0.35 * (1.0 - math.exp(-week / 150.0))
        return base * gain * (0.9 if week % 4 == 3 else 1.0)

    def week(self, week: int) -> list[Any]:
        aid = self.athlete_id
        monday = self.first_monday + timedelta(weeks=week)
        plan = WeeklyPlan.plan(self.ctx(self.at(monday - timedelta(days=1), 19)), aid, monday, [
            *({"role": "training", "objective_id": goal} for goal in self.goals),
            {"role": "volume"}])
        made: list[Any] = [plan]
        slots = list(plan.sessions)
        deload = week % 4 == 3
        for (lift, base, weekday), slot, goal in zip(MAIN, slots, self.goals, strict=False):
            top = self.top(base, week)
            sets: list[tuple[str, int, float, float | None]] = []
            for i, share in enumerate((0.6, 0.7, 0.8, 0.85, 0.85, 0.85)):
                rpe = None if i < 2 else (6.5 if deload else 7.5) + 0.5 * min(i - 2, 2)
                sets.append((lift, 5, round(top * share / 2.5) * 2.5, rpe))
            for exercise, load, reps in (ACCESSORIES[weekday // 2], ACCESSORIES[3]):
                for _ in range(3):
                    sets.append((exercise, reps, round(self.top(load, week) / 2.5) * 2.5, 8.0))
            self.max_load = max(self.max_load, *(s[2] for s in sets))
            made.extend(self.session(monday + timedelta(days=weekday), 18, slot, "training",
                                     goal, sets))
        volume = [(exercise, reps, round(self.top(load, week) * 0.8 / 2.5) * 2.5, 7.0)
                  for exercise, load, reps in ACCESSORIES[:4] for _ in range(3)]
        made.extend(self.session(monday + timedelta(days=5), 10, slots[3], "volume", None,
                                 volume))
        for offset in range(7):  # mornings: resting HR and HRV 4 a week, body mass 2
            morning = self.at(monday + timedelta(days=offset), 7)
            if offset in (0, 2, 4, 6):
                made.append(Observation.record(
                    self.ctx(morning), aid, "resting_hr",
                    round(54 + (2 if deload else 0) + self.rng.gauss(0, 1.5)), "bpm", morning))
                made.append(Observation.record(
                    self.ctx(morning), aid, "hrv_rmssd",
                    round(62 - (4 if deload else 0) + self.rng.gauss(0, 5), 1), "ms", morning))
            if offset in (0, 3):
                made.append(Observation.record(
                    self.ctx(morning), aid, "body_mass",
                    round(82 - 2 * (1 - math.exp(-week / 100)) + self.rng.gauss(0, 0.4), 1),
                    "kg", morning))
        made.sort(key=lambda a: getattr(a, "started_at", getattr(a, "observed_at", None))
                  or self.at(monday, 0))
        return made

    def session(self, day: date, hour: int, slot: str, role: str, goal: str | None,
                sets: Sequence[tuple[str, int, float, float | None]]) -> list[Any]:
        began = self.at(day, hour)
        session = TrainingSession.start(self.ctx(began), self.athlete_id, began, TZ,
                                        planned_role=role, objective_id=goal,
                                        planned_session_id=slot)
        for k, (exercise, reps, load, rpe) in enumerate(sets):
            when = began + timedelta(minutes=5 + 4 * k)
            session.log_set(self.ctx(when), str(uuid.uuid4()), exercise, reps, load, rpe=rpe,
                            performed_at=when)
        ended = began + timedelta(minutes=60)
        session.end(self.ctx(ended), ended, 6.5 + self.rng.choice((0.0, 0.5, 1.0, 1.5)),
                    avg_hr=float(self.rng.randint(115, 135)),
                    max_hr=float(self.rng.randint(158, 176)))
        return [session]

    @property
    def middle(self) -> date:
        return self.first_monday + timedelta(days=self.weeks * 7 // 2)


# --------------------------------------------------------------------------- stores


class Stores:
    """A fresh store per history: a directory (SQLite) or a schema (PostgreSQL)."""

    def __init__(self, tmp: Path, database_url: str | None) -> None:
        self.tmp = tmp
        self.url = database_url
        self.run_id = uuid.uuid4().hex[:8]
        self.schemas: list[str] = []

    def settings(self, name: str) -> Settings:
        data_dir = self.tmp / name
        if not self.url:
            return Settings(data_dir=data_dir, admin_token=ADMIN_TOKEN)
        schema = f"bench_views_{self.run_id}_{len(self.schemas)}"
        self.schemas.append(schema)
        url = f"{self.url}{'&' if '?' in self.url else '?'}schema={schema}"
        return Settings(data_dir=data_dir, database_url=url, admin_token=ADMIN_TOKEN)

    def drop(self) -> None:
        if not self.url or not self.schemas:
            return
        parts = urlsplit(self.url)
        with psycopg.connect(urlunsplit(parts._replace(query="")), autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))


# --------------------------------------------------------------------------- figures


@dataclass
class Figures:
    label: str
    weeks: int
    newest_first: bool = False
    events: int = 0
    generate_s: float = 0.0
    catch_up_s: list[float] = field(default_factory=list)
    catch_up_cpu_s: list[float] = field(default_factory=list)  # this process's CPU time
    health_s: list[float] = field(default_factory=list)
    reads_s: dict[str, list[float]] = field(default_factory=dict)
    answer_kb: dict[str, float] = field(default_factory=dict)  # size of each view's answer
    dashboard_s: list[float] = field(default_factory=list)
    as_of_day: str = ""
    as_of_s: dict[str, list[float]] = field(default_factory=dict)
    set_to_view_s: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def per_event_s(self) -> float:
        return statistics.median(self.catch_up_s) / max(self.events, 1)

    @property
    def per_event_cpu_s(self) -> float:
        return statistics.median(self.catch_up_cpu_s) / max(self.events, 1)


def quantile(xs: list[float], q: float) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else math.nan


def p50(xs: list[float]) -> float:
    return statistics.median(xs) if xs else math.nan


def p95(xs: list[float]) -> float:
    return quantile(xs, 0.95)


@contextmanager
def budget(seconds: float) -> Iterator[Callable[[int, int], bool]]:
    """``more(done, minimum)``: go on while under the minimum or within the time budget."""
    began = time.perf_counter()
    yield lambda done, minimum: done < minimum or time.perf_counter() - began < seconds


# --------------------------------------------------------------------------- measurements


def caught_up(rt: Runtime) -> None:
    """Every fed view applies every stored event and settles its deferred work."""
    for _ in range(100):
        rt.feed.catch_up_all()
        rt.feed.idle()
        if not any(rt.feed.lag().values()):
            return
    raise RuntimeError(f"the feed does not catch up: lag {rt.feed.lag()}")


class Case:
    """One history in its store: its runtime, its writer, its figures, its API client."""

    def __init__(self, stores: Stores, spec: Spec, index: int) -> None:
        self.spec = spec
        self.tag = f"{spec.label}{' newest first' if spec.newest_first else ''}"
        name = f"{index}-{spec.weeks}w{'-newest-first' if spec.newest_first else ''}"
        self.fig = Figures(spec.label, spec.weeks, spec.newest_first)
        self.rt = open_runtime(stores.settings(name))
        self.writer = Writer(self.rt, spec.weeks, spec.newest_first, seed=index)
        self.workers: Workers | None = None
        self.client: httpx.AsyncClient | None = None
        self.spent = 0.0  # seconds used by the current group of repetitions

    def write(self) -> None:
        t0 = time.perf_counter()
        self.writer.write()
        self.fig.generate_s = time.perf_counter() - t0
        self.fig.events = int(self.rt.app.recorder.max_notification_id() or 0)

    def serve(self) -> None:
        """Start the log feed worker as ``trainledger serve`` does, and an API client."""
        self.workers = Workers(self.rt, relay=False, intake=False).start()
        _, token = self.rt.tokens.issue("athlete", self.writer.athlete_id, "bench-views")
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(self.rt)), base_url="http://localhost",
            headers={"Authorization": f"Bearer {token}"})

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        if self.workers is not None:
            self.workers.stop()
        self.rt.close()

    # ----------------------------------------------------------------- requests

    async def get(self, url: str, **params: str) -> tuple[float, httpx.Response]:
        assert self.client is not None
        t0 = time.perf_counter()
        r = await self.client.get(url, params=params)
        elapsed = time.perf_counter() - t0
        if r.status_code != 200:
            raise RuntimeError(f"GET {url} {params}: {r.status_code} {r.text[:300]}")
        return elapsed, r

    async def post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        assert self.client is not None
        r = await self.client.post(url, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        if r.status_code not in (200, 201):
            raise RuntimeError(f"POST {url}: {r.status_code} {r.text[:300]}")
        out: dict[str, Any] = r.json()
        return out

    def view_url(self, name: str) -> str:
        return f"/athletes/{self.writer.athlete_id}/views/{name}"

    async def lagging(self) -> bool:
        return any((await self.get("/health"))[1].json()["view_lag"].values())

    # ----------------------------------------------------------------- measurements

    async def warm_up(self) -> None:
        for _ in range(2):
            for name in VIEWS:
                await self.get(self.view_url(name))
        await self.get(self.view_url("load"), as_of=self.writer.middle.isoformat())

    async def read_round(self) -> None:
        fig = self.fig
        t0 = time.perf_counter()
        fig.health_s.append((await self.get("/health"))[0])
        total = 0.0
        for name in VIEWS:
            elapsed, response = await self.get(self.view_url(name))
            fig.reads_s.setdefault(name, []).append(elapsed)
            fig.answer_kb[name] = len(response.content) / 1024
            total += elapsed
        fig.dashboard_s.append(total)
        self.spent += time.perf_counter() - t0

    async def as_of_round(self) -> None:
        fig = self.fig
        fig.as_of_day = self.writer.middle.isoformat()
        t0 = time.perf_counter()
        for name in VIEWS:
            elapsed, _ = await self.get(self.view_url(name), as_of=fig.as_of_day)
            fig.as_of_s.setdefault(name, []).append(elapsed)
        self.spent += time.perf_counter() - t0

    async def set_to_view(self, run: int) -> None:
        """Log 10 sets today; time from the 10th 201 to no lag and strength naming it."""
        while await self.lagging():
            await asyncio.sleep(0.005)
        started = datetime.now(UTC) - timedelta(minutes=30)
        session = await self.post(f"/athletes/{self.writer.athlete_id}/sessions",
                                  {"started_at": started.isoformat(), "title": "today"})
        sid = session["session_id"]
        set_id = ""
        for i in range(SETS_PER_RUN):  # each heavier than anything before: a record
            load = round((self.writer.max_load + 20 + 30 * run + 2.5 * i) / 2.5) * 2.5
            logged = await self.post(f"/sessions/{sid}/sets", {
                "exercise_id": SQUAT, "reps": 3, "load": load, "rpe": 8})
            set_id = logged["set"]["set_id"]
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < SET_TO_VIEW_TIMEOUT:
            if not await self.lagging():
                _, strength = await self.get(self.view_url("strength"))
                if set_id in strength.text:
                    self.fig.set_to_view_s.append(time.perf_counter() - t0)
                    break
            await asyncio.sleep(0.001)
        else:
            self.fig.notes.append(f"set-to-view run {run + 1}: no lag-free strength view "
                                  f"naming the set within {SET_TO_VIEW_TIMEOUT:.0f} s")
        await self.post(f"/sessions/{sid}/end", {"session_rpe": 7})


def measure_catch_up(a: Case, reps: int, seconds: float) -> None:
    """The first catch-up after writing, then again after forgetting every fed view."""
    rt, fig = a.rt, a.fig
    with budget(seconds) as more:
        while len(fig.catch_up_s) < reps and more(len(fig.catch_up_s), 1):
            if fig.catch_up_s:
                with rt.tables.transaction() as tx:
                    for view in rt.feed.views.values():
                        forget(tx, view)
            t0, c0 = time.perf_counter(), time.process_time()
            caught_up(rt)
            fig.catch_up_s.append(time.perf_counter() - t0)
            fig.catch_up_cpu_s.append(time.process_time() - c0)


async def interleaved(athletes: list[Case], step: str, rounds: int, minimum: int,
                      seconds: float) -> None:
    """Rounds of ``step`` taking each athlete in turn; an athlete stops at ``rounds``, or
    once past ``minimum`` rounds and ``seconds`` of its own time."""
    done = dict.fromkeys(range(len(athletes)), 0)
    for a in athletes:
        a.spent = 0.0
    while True:
        todo = [i for i, a in enumerate(athletes)
                if done[i] < rounds and (done[i] < minimum or a.spent < seconds)]
        if not todo:
            return
        order = todo if sum(done.values()) % 2 == 0 else todo[::-1]
        for i in order:
            await getattr(athletes[i], step)()
            done[i] += 1


async def warm_up(stores: Stores) -> float:
    """A short history through every path, unreported: imports, caches, the first requests."""
    t0 = time.perf_counter()
    a = Case(stores, Spec("warm-up", 2), 99)
    try:
        a.write()
        caught_up(a.rt)
        a.serve()
        await a.warm_up()
        await a.set_to_view(0)
    finally:
        await a.close()
    return time.perf_counter() - t0


async def measure(stores: Stores, specs: list[Spec], newest_spec: Spec | None,
                  args: argparse.Namespace) -> tuple[list[Case], Case | None]:
    print(f"warm-up: {await warm_up(stores):.1f} s", flush=True)
    athletes = [Case(stores, spec, i) for i, spec in enumerate(specs)]
    everyone = athletes + ([Case(stores, newest_spec, len(specs))] if newest_spec else [])
    try:
        for a in everyone:
            a.write()
            print(f"  {a.tag}: {a.fig.events:,} events written in {a.fig.generate_s:.1f} s",
                  flush=True)
            measure_catch_up(a, args.catch_up_reps, args.budget)
            print(f"  {a.tag}: catch-up x{len(a.fig.catch_up_s)}, median "
                  f"{p50(a.fig.catch_up_s):.2f} s", flush=True)
        for a in athletes:
            a.serve()
            await a.warm_up()
        groups = (("read_round", args.rounds, 5, "read rounds"),
                  ("as_of_round", args.as_of_rounds, 3, "as_of rounds"))
        for step, rounds, minimum, what in groups:
            t0 = time.perf_counter()
            await interleaved(athletes, step, rounds, minimum, args.budget)
            print(f"  {what}: {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        for run in range(SETS_TO_VIEW_RUNS):
            for a in athletes if run % 2 == 0 else athletes[::-1]:
                await a.set_to_view(run)
        print(f"  set-to-view: {time.perf_counter() - t0:.1f} s", flush=True)
    finally:
        for a in everyone:
            await a.close()
    return athletes, everyone[-1] if newest_spec else None


# --------------------------------------------------------------------------- report


def ms(x: float) -> str:
    if math.isnan(x):
        return "-"
    return f"{x * 1000:.0f}" if x >= 0.1 else f"{x * 1000:.1f}"


def ratio(a: float, b: float) -> float:
    return a / b if b > 0 and not math.isnan(a) and not math.isnan(b) else math.nan


def fmt_ratio(r: float) -> str:
    return "-" if math.isnan(r) else f"{r:.2f}x"


def s2v(fig: Figures) -> float:
    return p50(fig.set_to_view_s)


def report(figs: list[Figures], newest: Figures | None) -> dict[str, Any]:
    base, top = figs[0], figs[-1]
    width = 14
    heads = [f.label for f in figs]
    print("\nfigures in ms, p50/p95 (reads) or median; ratio = "
          f"{top.label} / {base.label} of the p50 (p95)")
    print(f"{'':26s}" + "".join(f" {h:>{width - 1}s}" for h in heads) + f"{'ratio':>19s}")

    def row(label: str, cells: list[str], r: str) -> None:
        print(f"{label:26s}" + "".join(f" {c:>{width - 1}s}" for c in cells) + f"{r:>19s}")

    def pair(xs: list[float]) -> str:
        return f"{ms(p50(xs))}/{ms(p95(xs))}"

    def pair_ratio(a: list[float], b: list[float]) -> str:
        return f"{fmt_ratio(ratio(p50(a), p50(b)))} ({fmt_ratio(ratio(p95(a), p95(b)))})"

    row("events", [f"{f.events:,}" for f in figs], fmt_ratio(ratio(top.events, base.events)))
    row("generate (s)", [f"{f.generate_s:.1f}" for f in figs], "")
    row("catch-up (ms)", [ms(p50(f.catch_up_s)) for f in figs],
        fmt_ratio(ratio(p50(top.catch_up_s), p50(base.catch_up_s))))
    row("catch-up per event (us)", [f"{f.per_event_s * 1e6:.0f}" for f in figs],
        fmt_ratio(ratio(top.per_event_s, base.per_event_s)))
    row("  of it CPU (us)", [f"{f.per_event_cpu_s * 1e6:.0f}" for f in figs],
        fmt_ratio(ratio(top.per_event_cpu_s, base.per_event_cpu_s)))
    row("GET /health (floor)", [pair(f.health_s) for f in figs],
        pair_ratio(top.health_s, base.health_s))
    for name in VIEWS:
        row(f"view {name}", [pair(f.reads_s.get(name, [])) for f in figs],
            pair_ratio(top.reads_s.get(name, []), base.reads_s.get(name, [])))
    row("dashboard (7 views)", [pair(f.dashboard_s) for f in figs],
        pair_ratio(top.dashboard_s, base.dashboard_s))
    for name in VIEWS:  # what a full answer (no from/to) carries: the reads' growth
        row(f"answer {name} (KB)", [f"{f.answer_kb.get(name, 0):,.1f}" for f in figs],
            fmt_ratio(ratio(top.answer_kb.get(name, 0), base.answer_kb.get(name, 0) or 1)))
    for name in VIEWS:
        row(f"as_of {name}", [ms(p50(f.as_of_s.get(name, []))) for f in figs],
            fmt_ratio(ratio(p50(top.as_of_s.get(name, [])), p50(base.as_of_s.get(name, [])))))
    row("set-to-view", [ms(s2v(f)) for f in figs],
        fmt_ratio(ratio(s2v(top), max(s2v(base), SET_TO_VIEW_FLOOR))))
    row("reps: catch-up", [str(len(f.catch_up_s)) for f in figs], "")
    row("reps: read rounds", [str(len(f.dashboard_s)) for f in figs], "")
    row("reps: as_of rounds", [str(len(f.as_of_s.get("load", []))) for f in figs], "")
    row("reps: set-to-view", [str(len(f.set_to_view_s)) for f in figs], "")
    print("as_of days: " + ", ".join(f"{f.label} {f.as_of_day}" for f in figs))
    if newest is not None:
        chrono = next((f for f in figs if f.weeks == newest.weeks), top)
        print(f"\nnewest-first {newest.label}: {newest.events:,} events, written in "
              f"{newest.generate_s:.1f} s; catch-up {ms(p50(newest.catch_up_s))} ms "
              f"(x{len(newest.catch_up_s)}) = {newest.per_event_s * 1e6:.0f} us/event vs "
              f"chronological {chrono.per_event_s * 1e6:.0f} us/event: "
              f"{fmt_ratio(ratio(newest.per_event_s, chrono.per_event_s))}")
    for f in [*figs, *([newest] if newest else [])]:
        for note in f.notes:
            print(f"note ({f.label}): {note}")

    checks: list[tuple[str, bool, str]] = []
    worst = max(VIEWS, key=lambda n: ratio(p50(top.reads_s[n]), p50(base.reads_s[n])))
    view_ratios = ", ".join(
        f"{n} {ratio(p50(top.reads_s[n]), p50(base.reads_s[n])):.2f}x" for n in VIEWS)
    checks.append((f"view reads {top.label} within {TOLERANCE}x of {base.label} (p50)",
                   all(ratio(p50(top.reads_s[n]), p50(base.reads_s[n])) <= TOLERANCE
                       for n in VIEWS), f"{view_ratios}; worst {worst}"))
    s2v_ratio = ratio(s2v(top), max(s2v(base), SET_TO_VIEW_FLOOR))
    checks.append((f"set-to-view {top.label} within {TOLERANCE}x of {base.label}",
                   s2v_ratio <= TOLERANCE,
                   f"{ms(s2v(top))} / max({ms(s2v(base))}, 50) ms = {fmt_ratio(s2v_ratio)}"))
    checks.append((f"dashboard p95 < 100 ms at {top.label}", p95(top.dashboard_s) < 0.1,
                   f"{ms(p95(top.dashboard_s))} ms"))
    pe = ratio(top.per_event_cpu_s, base.per_event_cpu_s)
    checks.append((f"projection cost per event {top.label} within {TOLERANCE}x of "
                   f"{base.label} (CPU time)", pe <= TOLERANCE,
                   f"{top.per_event_cpu_s * 1e6:.0f} / {base.per_event_cpu_s * 1e6:.0f} us = "
                   f"{fmt_ratio(pe)}"))
    slowest = max(((f, n) for f in figs for n in VIEWS), key=lambda fn: p95(fn[0].reads_s[fn[1]]))
    checks.append(("every view read p95 < 20 ms", p95(slowest[0].reads_s[slowest[1]]) < 0.02,
                   f"slowest: {slowest[1]} at {slowest[0].label} "
                   f"{ms(p95(slowest[0].reads_s[slowest[1]]))} ms"))
    late = max(figs, key=s2v)
    checks.append(("set-to-view < 100 ms", s2v(late) < 0.1,
                   f"slowest: {late.label} {ms(s2v(late))} ms"))
    if newest is not None:
        chrono = next((f for f in figs if f.weeks == newest.weeks), top)
        nr = ratio(newest.per_event_cpu_s, chrono.per_event_cpu_s)
        checks.append((f"newest-first catch-up per event within {TOLERANCE}x of "
                       "chronological (CPU time)", nr <= TOLERANCE, fmt_ratio(nr)))
    print("\ntargets (informative)")
    for text, ok, detail in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}: {detail}")
    return {"targets": [{"target": t, "pass": ok, "detail": d} for t, ok, d in checks]}


def summary(fig: Figures) -> dict[str, Any]:
    out = asdict(fig)
    out["per_event_us"] = fig.per_event_s * 1e6
    out["per_event_cpu_us"] = fig.per_event_cpu_s * 1e6
    out["p50_ms"] = {n: p50(xs) * 1000 for n, xs in fig.reads_s.items()}
    out["p95_ms"] = {n: p95(xs) * 1000 for n, xs in fig.reads_s.items()}
    out["dashboard_ms"] = {"p50": p50(fig.dashboard_s) * 1000,
                           "p95": p95(fig.dashboard_s) * 1000}
    out["as_of_p50_ms"] = {n: p50(xs) * 1000 for n, xs in fig.as_of_s.items()}
    out["set_to_view_ms"] = s2v(fig) * 1000
    return out


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.views",
                                description="Analytic views through the API vs history length.")
    p.add_argument("--quick", action="store_true", help="1 week and 1 year only")
    p.add_argument("--years", nargs="+", metavar="Y",
                   help="history lengths: years (10, 0.5) or weeks (1w); default 1w 1 10")
    p.add_argument("--no-newest-first", action="store_true",
                   help="skip the newest-first copy of the longest history")
    p.add_argument("--rounds", type=int, default=40, help="read rounds (7 views each)")
    p.add_argument("--as-of-rounds", type=int, default=10, help="as_of rounds (7 views each)")
    p.add_argument("--catch-up-reps", type=int, default=3)
    p.add_argument("--budget", type=float, default=60.0,
                   help="seconds per group of repetitions before capping it")
    p.add_argument("--database-url", help="postgresql://... (a schema per history; "
                   "default: SQLite in a temporary directory)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write the figures as JSON")
    args = p.parse_args(argv)
    tokens = args.years or (["1w", "1"] if args.quick else ["1w", "1", "10"])
    specs = sorted((parse_length(t) for t in tokens), key=lambda s: s.weeks)
    if len(specs) < 2:
        p.error("give at least two history lengths (the shortest is the baseline)")
    args.specs = specs
    return args


async def run(args: argparse.Namespace) -> dict[str, Any]:
    specs: list[Spec] = args.specs
    newest_spec = None if args.no_newest_first else Spec(specs[-1].label, specs[-1].weeks, True)
    print(f"trainledger views bench: {', '.join(s.label for s in specs)}"
          f"{f' + {newest_spec.label} newest first' if newest_spec else ''}; "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}, Python {sys.version.split()[0]}",
          flush=True)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="trainledger-bench-views-") as tmp:
        stores = Stores(Path(tmp), args.database_url)
        try:
            athletes, newest_athlete = await measure(stores, specs, newest_spec, args)
        finally:
            stores.drop()
    figs = [a.fig for a in athletes]
    newest = newest_athlete.fig if newest_athlete else None
    out = report(figs, newest)
    total = time.perf_counter() - began
    print(f"\ntotal {total:.0f} s")
    out.update({"histories": [summary(f) for f in figs],
                "newest_first": summary(newest) if newest else None,
                "store": "postgres" if args.database_url else "sqlite", "total_s": total})
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = asyncio.run(run(args))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
