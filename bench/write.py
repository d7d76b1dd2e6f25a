"""Set-logging throughput: the API path against a bare ``eventsourcing`` application.

    python -m bench.write [--store sqlite|postgres|both] [--sets N] [--warmup W]
                          [--with-app] [--client auto|httpx|testclient] [--profile DIR]

For each store, in one run, these paths log sets one request at a time:

``api``   POST /sessions/{id}/sets through the real FastAPI app (an athlete's bearer token, an
          Idempotency-Key per request) with an in-process client.
``bare``  a plain ``eventsourcing.application.Application`` and a minimal aggregate whose
          ``SetLogged`` event carries the very same payload (set fields, ``occurred_at``, the
          ``source`` dict with token, request id and fingerprint): get the aggregate, trigger
          the event, save.  That is the library's floor on the same kind of store; all that
          trainledger adds (HTTP, auth, athlete read, validation, idempotency) is the gap.
``app``   (``--with-app``) ``TrainingLog.log_set`` called directly, as the route calls it:
          splits the gap into the HTTP layer (api/app) and the application (app/bare).

Every path writes 100 sets into a session, then moves to a fresh one, so the aggregates
replayed on each write have the same lengths on every path.  Each path has a fresh store: a
temporary directory (SQLite) or a schema of its own in the same database (PostgreSQL),
dropped at the end.  The paths are interleaved request by request (order alternating), so
machine noise hits them alike; sets/s is 1 / mean latency, and the API/bare ratio is the
median of the ratios of the 100-set sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from uuid import UUID

import anyio.to_thread
import httpx
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from psycopg import sql

warnings.filterwarnings("ignore", message=".*httpx2.*")

from fastapi.testclient import TestClient  # noqa: E402

from services.api.app import create_app  # noqa: E402
from services.application import Access  # noqa: E402
from services.config import Settings  # noqa: E402
from services.domain.base import Context, Source  # noqa: E402
from services.runtime import Runtime, ensure_postgres_schema, open_runtime  # noqa: E402

PG_URL = os.environ.get("TRAINLEDGER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_TOKEN = "tla_bench-admin-token"
SETS_PER_SESSION = 100
SET_BODY: dict[str, Any] = {"exercise_id": "squat.back_squats", "reps": 5, "load": 100, "rpe": 8}
CALIBRATION = 50  # requests per client (each of GET /health and POST sets) to pick one
PROFILED_SETS = 300
CLIENTS = {
    "httpx": "httpx.AsyncClient(transport=httpx.ASGITransport(app)), awaited in one loop",
    "testclient": "starlette TestClient (each request crosses into its portal thread)",
}

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


def sessions_for(n: int) -> Iterator[int]:
    """Sets per session for ``n`` sets: 100 each, the last one may hold fewer."""
    while n > 0:
        yield min(n, SETS_PER_SESSION)
        n -= SETS_PER_SESSION


# --------------------------------------------------------------------------- bare baseline


class BenchSession(Aggregate):
    """The baseline's aggregate: a session that only records sets."""

    if TYPE_CHECKING:  # a plain attribute, not a dataclass field
        sets: dict[str, datetime]

    class Started(Aggregate.Created):
        athlete_id: str
        occurred_at: datetime
        source: dict[str, str]

        def apply(self, agg: BenchSession) -> None:
            agg.sets = {}

    class SetLogged(Aggregate.Event):
        occurred_at: datetime
        source: dict[str, str]
        set_id: str
        exercise_id: str
        reps: int | None
        load_kg: float | None
        rpe: float | None
        rir: float | None
        set_type: str
        tempo: str | None
        rest_s: float | None
        duration_s: float | None
        notes: str | None

        def apply(self, agg: BenchSession) -> None:
            agg.sets[self.set_id] = self.occurred_at


def bare_source(athlete_id: str, token_id: str) -> dict[str, str]:
    """What the API path records as ``source`` (with a fresh request id and fingerprint)."""
    return {
        "kind": "athlete",
        "principal_id": athlete_id,
        "token_id": token_id,
        "request_id": str(uuid.uuid4()),
        "fingerprint": uuid.uuid4().hex,
    }


# --------------------------------------------------------------------------- stores


class Stores:
    """Fresh stores of one kind: a temp dir per path (SQLite), a schema per path (PG)."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.tmp = tmp
        self.run_id = uuid.uuid4().hex[:8]
        self.schemas: list[str] = []

    def settings(self, path: str) -> Settings:
        data_dir = self.tmp / path
        if self.kind == "sqlite":
            return Settings(data_dir=data_dir, admin_token=ADMIN_TOKEN)
        schema = f"bench_{self.run_id}_{path}"
        self.schemas.append(schema)
        url = f"{PG_URL}?schema={schema}"
        return Settings(data_dir=data_dir, database_url=url, admin_token=ADMIN_TOKEN)

    def drop(self) -> None:
        if not self.schemas:
            return
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for schema in self.schemas:
                drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
                conn.execute(drop.format(sql.Identifier(schema)))


def open_bare(settings: Settings) -> Application[UUID]:
    env = settings.store_env()  # the very store configuration the runtime gets
    if settings.backend == "postgres":
        ensure_postgres_schema(env)
    app: Application[UUID] = Application(env=env)
    return app


# --------------------------------------------------------------------------- profiling


class Profiler:
    """cProfile of the calling thread plus whatever FastAPI hands to the thread pool.

    cProfile only sees the thread that enabled it; sync routes and dependencies run in
    anyio worker threads, so while profiling, ``anyio.to_thread.run_sync`` (which starlette
    looks up at each call) runs its function under a second profile.  Requests are
    sequential, so that profile is never entered twice at once.  In the merged stats the
    loop thread's ``select.epoll.poll`` is mostly the wait for those worker calls.
    """

    def __init__(self) -> None:
        self.main = cProfile.Profile()
        self.worker = cProfile.Profile()

    @contextmanager
    def active(self) -> Iterator[None]:
        original = anyio.to_thread.run_sync
        worker = self.worker

        async def run_sync(func: Callable[..., T], *args: object, **kwargs: Any) -> T:
            return await original(lambda: worker.runcall(func, *args), **kwargs)

        anyio.to_thread.run_sync = run_sync
        self.main.enable()
        try:
            yield
        finally:
            self.main.disable()
            anyio.to_thread.run_sync = original

    def dump(self, path: Path) -> None:
        stats = pstats.Stats(self.main)
        if self.worker.getstats():  # the bare and app paths never use the thread pool
            stats.add(self.worker)
        stats.dump_stats(path)


# --------------------------------------------------------------------------- paths


class BenchPath(Protocol):
    name: str

    def prepare(self, n: int) -> None:
        """Start the sessions for the next ``n`` sets (not timed)."""

    async def step(self) -> None:
        """Log the next set."""


class Targets:
    """Which session each of the prepared sets goes to."""

    def __init__(self) -> None:
        self.queue: list[Any] = []
        self.next = 0

    def fill(self, session_ids: list[Any], n: int) -> None:
        sizes = sessions_for(n)
        self.queue = [sid for sid, k in zip(session_ids, sizes, strict=True) for _ in range(k)]
        self.next = 0

    def pop(self) -> Any:
        target = self.queue[self.next]
        self.next += 1
        return target


def make_athlete(rt: Runtime) -> tuple[str, str, str]:
    """A fresh athlete: (athlete id, token id, token)."""
    admin = Context(Source("admin"))
    athlete = rt.app.register_athlete(admin, {"name": "Bench", "timezone": "UTC"})
    token_id, token = rt.tokens.issue("athlete", str(athlete.id), "bench")
    return str(athlete.id), token_id, token


def start_sessions(rt: Runtime, athlete_id: str, token_id: str, n: int) -> list[str]:
    ctx = Context(Source("athlete", athlete_id, token_id))
    started = utcnow() - timedelta(hours=1)
    return [str(rt.app.start_session(ctx, athlete_id, started).id) for _ in sessions_for(n)]


class ApiPath:
    """POST /sessions/{id}/sets through the FastAPI app with an in-process client."""

    name = "api"

    def __init__(self, rt: Runtime, client: str) -> None:
        self.rt = rt
        self.client = client
        self.fastapi = create_app(rt)
        self.athlete_id, self.token_id, token = make_athlete(rt)
        self.auth = f"Bearer {token}"
        self.targets = Targets()
        self.httpx = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.fastapi), base_url="http://localhost"
        )
        self._testclient: TestClient | None = None

    @property
    def testclient(self) -> TestClient:
        if self._testclient is None:
            self._testclient = TestClient(self.fastapi, base_url="http://localhost").__enter__()
        return self._testclient

    async def close(self) -> None:
        await self.httpx.aclose()
        if self._testclient is not None:
            self._testclient.__exit__(None, None, None)

    def prepare(self, n: int) -> None:
        self.targets.fill(start_sessions(self.rt, self.athlete_id, self.token_id, n), n)

    async def step(self) -> None:
        await self.post(self.client)

    async def post(self, client: str) -> None:
        url = f"/sessions/{self.targets.pop()}/sets"
        headers = {"Authorization": self.auth, "Idempotency-Key": uuid.uuid4().hex}
        if client == "httpx":
            r = await self.httpx.post(url, json=SET_BODY, headers=headers)
        else:
            r = self.testclient.post(url, json=SET_BODY, headers=headers)
        if r.status_code != 201:
            raise RuntimeError(f"POST {url}: {r.status_code} {r.text}")

    async def health(self, client: str) -> None:
        """GET /health: no store, no auth: the client's and the framework's own cost."""
        if client == "httpx":
            r = await self.httpx.get("/health")
        else:
            r = self.testclient.get("/health")
        r.raise_for_status()


class AppPath:
    """``TrainingLog.log_set`` called directly, as the route calls it, without HTTP."""

    name = "app"

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.athlete_id, self.token_id, _ = make_athlete(rt)
        self.source = Source("athlete", self.athlete_id, self.token_id)
        self.access = Access(frozenset({self.athlete_id}))
        self.targets = Targets()

    def prepare(self, n: int) -> None:
        self.targets.fill(start_sessions(self.rt, self.athlete_id, self.token_id, n), n)

    async def step(self) -> None:
        ctx = Context(self.source, str(uuid.uuid4()), uuid.uuid4().hex)
        self.rt.app.log_set(ctx, self.targets.pop(), dict(SET_BODY), access=self.access)


class BarePath:
    """Get the aggregate, trigger the event, save: a bare ``eventsourcing`` Application."""

    name = "bare"

    def __init__(self, app: Application[UUID]) -> None:
        self.app = app
        self.athlete_id, self.token_id = str(uuid.uuid4()), str(uuid.uuid4())
        self.targets = Targets()

    def prepare(self, n: int) -> None:
        ids = []
        for _ in sessions_for(n):
            agg = BenchSession._create(
                BenchSession.Started,
                athlete_id=self.athlete_id,
                occurred_at=utcnow() - timedelta(hours=1),
                source=bare_source(self.athlete_id, self.token_id),
            )
            self.app.save(agg)
            ids.append(agg.id)
        self.targets.fill(ids, n)

    async def step(self) -> None:
        session: BenchSession = self.app.repository.get(self.targets.pop())
        session.trigger_event(
            BenchSession.SetLogged,
            occurred_at=utcnow(),
            source=bare_source(self.athlete_id, self.token_id),
            set_id=str(uuid.uuid4()),
            exercise_id="squat.back_squats",
            reps=5,
            load_kg=100.0,
            rpe=8.0,
            rir=None,
            set_type="working",
            tempo=None,
            rest_s=None,
            duration_s=None,
            notes=None,
        )
        self.app.save(session)


# --------------------------------------------------------------------------- the run


async def interleaved(paths: list[BenchPath], n: int) -> dict[str, list[float]]:
    """Log ``n`` sets on every path, one request of each in turn; seconds per request."""
    for path in paths:
        path.prepare(n)
    latencies: dict[str, list[float]] = {path.name: [] for path in paths}
    clock = time.perf_counter
    for i in range(n):
        for path in paths if i % 2 == 0 else paths[::-1]:
            t0 = clock()
            await path.step()
            latencies[path.name].append(clock() - t0)
    return latencies


async def calibrate(api: ApiPath) -> str:
    """Time both in-process clients, interleaved; keep the cheaper (it shows more app)."""
    api.prepare(2 * (CALIBRATION + 10))
    cost: dict[str, list[float]] = {c: [0.0, 0.0] for c in CLIENTS}
    for i in range(CALIBRATION + 10):
        for client in CLIENTS:
            t0 = time.perf_counter()
            await api.health(client)
            t1 = time.perf_counter()
            await api.post(client)
            if i >= 10:  # the first ones warm up
                cost[client][0] += t1 - t0
                cost[client][1] += time.perf_counter() - t1
    figures = "; ".join(
        f"{c} GET /health {h / CALIBRATION * 1000:.2f} ms, POST sets "
        f"{p / CALIBRATION * 1000:.2f} ms"
        for c, (h, p) in cost.items()
    )
    print(f"client calibration (mean of {CALIBRATION}, interleaved): {figures}")
    return min(cost, key=lambda c: sum(cost[c]))


def ms(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def rate(latencies: list[float]) -> float:
    return len(latencies) / sum(latencies)


def session_ratios(num: list[float], den: list[float]) -> list[float]:
    """Throughput ratio num/den over each 100-set session (both paths in step)."""
    step = SETS_PER_SESSION
    return [rate(num[i : i + step]) / rate(den[i : i + step]) for i in range(0, len(num), step)]


def report(kind: str, lat: dict[str, list[float]]) -> None:
    n = len(lat["api"])
    print(f"\nstore: {kind}   ({n} sets per path, interleaved request by request)")
    print(f"  {'path':<5} {'sets/s':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for name in ("api", "app", "bare"):
        if name in lat:
            x = lat[name]
            print(f"  {name:<5} {rate(x):>7.0f} {ms(x, 0.50):>7.2f} {ms(x, 0.95):>7.2f}")
    pairs = [("api", "bare")] + ([("app", "bare"), ("api", "app")] if "app" in lat else [])
    for num, den in pairs:
        ratios = session_ratios(lat[num], lat[den])
        median = statistics.median(ratios)
        line = (
            f"  {num}/{den} = {median:.0%}  (median of {len(ratios)} sessions; "
            f"range {min(ratios):.0%}-{max(ratios):.0%})"
        )
        if (num, den) == ("api", "bare"):
            line += f"   target >= 50%: {'met' if median >= 0.5 else 'NOT MET'}"
        print(line)


async def bench_store(kind: str, args: argparse.Namespace) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="trainledger-bench-") as tmp:
        stores = Stores(kind, Path(tmp))
        rt = open_runtime(stores.settings("api"))
        bare_app = open_bare(stores.settings("bare"))
        api = ApiPath(rt, args.client)
        try:
            if args.client == "auto":
                args.client = await calibrate(api)
            api.client = args.client
            paths: list[BenchPath] = [api, BarePath(bare_app)]
            if args.with_app:
                paths.insert(1, AppPath(rt))
            if args.warmup:
                await interleaved(paths, args.warmup)
            latencies = await interleaved(paths, args.sets)
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                for path in paths:
                    path.prepare(PROFILED_SETS)
                    profiler = Profiler()
                    with profiler.active():
                        for _ in range(PROFILED_SETS):
                            await path.step()
                    profiler.dump(args.profile / f"{kind}-{path.name}.prof")
            return latencies
        finally:
            await api.close()
            rt.close()
            bare_app.close()
            stores.drop()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.write", description="Set-logging throughput: API vs bare."
    )
    p.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--sets", type=int, default=800, help="measured sets per path per store")
    p.add_argument("--warmup", type=int, default=50, help="unmeasured sets per path first")
    p.add_argument("--with-app", action="store_true", help="also time TrainingLog.log_set")
    p.add_argument(
        "--client",
        choices=("auto", *CLIENTS),
        default="auto",
        help="in-process client of the API path (auto: time both, keep the cheaper)",
    )
    p.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help=f"then log {PROFILED_SETS} more sets per path under cProfile: DIR/STORE-PATH.prof",
    )
    args = p.parse_args(argv)
    if args.sets < 1 or args.warmup < 0:
        p.error("--sets must be positive and --warmup not negative")
    return args


async def run(args: argparse.Namespace) -> None:
    stores = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    print(
        f"trainledger write bench: {args.sets} sets per path per store (+{args.warmup} warmup), "
        f"{SETS_PER_SESSION} sets per session, Python {sys.version.split()[0]}"
    )
    t0 = time.perf_counter()
    results = {kind: await bench_store(kind, args) for kind in stores}
    print(f"API client: {CLIENTS[args.client]}")
    for kind, latencies in results.items():
        report(kind, latencies)
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")


def main(argv: list[str] | None = None) -> int:
    asyncio.run(run(parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
