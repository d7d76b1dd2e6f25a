"""Fuzzing: the HTTP API against its OpenAPI schema, and mutated FIT files through the decoder
and the upload endpoint.

    python -m bench.fuzz --api [--examples N] [--roles admin,athlete,coach] [--store S] [-v]
    python -m bench.fuzz --fit N [--seed S] [--batch B] [--timeout T] [--max-size BYTES]
                         [--backends fast,fitdecode,fitparse] [--no-upload] [--store S] [-v]
    python -m bench.fuzz --fit-case SEED/INDEX [--max-size BYTES] [--save FILE]

``--api``: schemathesis generates requests for every operation of ``create_app`` from its own
OpenAPI schema and sends them in-process (ASGI), once per role (the admin token, an athlete's
token; ``coach`` adds a granted coach's). Per operation and role ``--examples`` cases are drawn
from three strategies: valid requests with random path ids, valid requests aimed at a seeded
athlete's real ids (session, set, goal, plan, observation, import, ...), and invalid requests
(schemathesis' negative mode). Checks: ``not_a_server_error``, ``status_code_conformance``,
``response_schema_conformance``; an exception out of the app counts as a server error.

``--fit N``: N mutants of the FIT sample corpus (``../shared/fit-samples``, or
``$TRAINLEDGER_FIT_SAMPLES``), each one to three of: truncation, bit flips, byte insertion,
deletion, header field corruption, boundary values, swapped records, a duplicated record or
chunk, a splice with another sample; then, for most, the header's data size and the CRCs put
right again, so that the decoder reads past its integrity checks. Every mutant is:

- decoded directly (``ingest.fit.decode``, strict and with ``salvage``, on ``--backends``) and
  planned (``importer.prepare``, what the intake runs): anything but ``FitError`` is a failure,
  and so is a call over ``--timeout`` seconds (enforced with SIGALRM);
- uploaded (``POST /athletes/{id}/imports/fit``, ``--batch`` files a request, a fresh athlete
  each, the in-process intake worker applying them): the answer must be 202 with one result per
  file, each imported / duplicate / skipped / rejected (pending after the wait: a hang); no
  file may take over ``--timeout`` seconds in the intake; the events recorded meanwhile must all
  come from files answered "imported" (nothing from a rejected one); an imported activity's
  session must be ended, with as many sets as the decoded file has active ``set`` messages.

Each mutant is reproducible from its id SEED/INDEX (and ``--max-size``, which picks the samples):
``--fit-case`` decodes it again and prints what it is made of; ``--save`` writes its bytes.
Exit status 1 when anything failed. tests/fuzz runs both in small; RELIABILITY.md ("Fuzzing")
has the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import random
import signal
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from ingest.fit.encode import crc16  # the writer's own CRC: the fuzzer does not trust the decoder's

REPO = Path(__file__).resolve().parent.parent
CORPUS_ENV = "TRAINLEDGER_FIT_SAMPLES"
PG_URL = os.environ.get("TRAINLEDGER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
FINAL = ("imported", "duplicate", "skipped", "rejected")
SQUAT = "squat.back_squats"


# ------------------------------------------------------------------ FIT corpus and structure


def corpus_dir() -> Path:
    env = os.environ.get(CORPUS_ENV)
    return Path(env) if env else REPO / ".." / "shared" / "fit-samples"


def load_samples(max_size: int | None = None, corpus: Path | None = None,
                 ) -> list[tuple[str, bytes]]:
    """(path, bytes) of every sample in MANIFEST.tsv (valid and corrupt) up to ``max_size``
    bytes, by path; empty when there is no corpus."""
    folder = corpus or corpus_dir()
    manifest = folder / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    chosen = sorted(r["path"] for r in rows if max_size is None or int(r["bytes"]) <= max_size)
    return [(path, (folder / path).read_bytes()) for path in chosen]


def header_size(data: bytes) -> int | None:
    if len(data) >= 12 and data[0] in (12, 14) and data[8:12] == b".FIT":
        return data[0]
    return None


def records(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of the first file's records, as far as they can be walked."""
    size = header_size(data)
    if size is None:
        return []
    end = min(size + int.from_bytes(data[4:8], "little"), len(data) - 2)
    spans: list[tuple[int, int]] = []
    lengths: dict[int, int] = {}
    pos = size
    while pos < end:
        head = data[pos]
        if head & 0x80:  # compressed timestamp header: a data message
            length = lengths.get((head >> 5) & 0x3)
            if length is None:
                break
            rec = 1 + length
        elif head & 0x40:  # definition message
            if pos + 6 > end:
                break
            n = data[pos + 5]
            rec = 6 + 3 * n
            if pos + rec > end:
                break
            length = sum(data[pos + 6 + 3 * i + 1] for i in range(n))
            if head & 0x20:  # developer fields
                if pos + rec >= end:
                    break
                n_dev = data[pos + rec]
                if pos + rec + 1 + 3 * n_dev > end:
                    break
                length += sum(data[pos + rec + 1 + 3 * i + 1] for i in range(n_dev))
                rec += 1 + 3 * n_dev
            lengths[head & 0x0F] = length
        else:
            length = lengths.get(head & 0x0F)
            if length is None:
                break
            rec = 1 + length
        if pos + rec > end:
            break
        spans.append((pos, pos + rec))
        pos += rec
    return spans


def fix_up(data: bytes, size: bool) -> bytes:
    """Put the header CRC and the file CRC right again (and with ``size`` the header's data
    size), so that a decoder reads the mutated content instead of stopping at a check."""
    hs = header_size(data)
    if hs is None or len(data) < hs + 2:
        return data
    out = bytearray(data)
    if size:
        out[4:8] = (len(out) - hs - 2).to_bytes(4, "little")
    if hs == 14:
        out[12:14] = crc16(bytes(out[:12])).to_bytes(2, "little")
    out[-2:] = crc16(bytes(out[:-2])).to_bytes(2, "little")
    return bytes(out)


# ------------------------------------------------------------------ mutations


def _offset(rng: random.Random, n: int) -> int:
    """A position, one time in three inside the header or the first records."""
    if n <= 1:
        return 0
    return rng.randrange(min(n, 64)) if rng.random() < 1 / 3 else rng.randrange(n)


def _truncate(data: bytes, rng: random.Random, _: bytes) -> tuple[bytes, str]:
    cut = rng.choice([rng.randrange(len(data) + 1), rng.randrange(min(len(data), 40) + 1),
                      max(0, len(data) - rng.randrange(1, 40))])
    return data[:cut], f"truncate@{cut}"


def _bitflip(data: bytes, rng: random.Random, _: bytes) -> tuple[bytes, str]:
    if not data:
        return data, "bitflip(empty)"
    out, where = bytearray(data), []
    for _i in range(rng.choice([1, 1, 2, 4, 8])):
        pos, bit = _offset(rng, len(out)), rng.randrange(8)
        out[pos] ^= 1 << bit
        where.append(f"{pos}.{bit}")
    return bytes(out), "bitflip@" + ",".join(where)


def _insert(data: bytes, rng: random.Random, _: bytes) -> tuple[bytes, str]:
    pos, n = _offset(rng, len(data) + 1), rng.choice([1, 1, 2, 3, 8, 16, 64])
    chunk = bytes(rng.randrange(256) for _ in range(n))
    return data[:pos] + chunk + data[pos:], f"insert{n}@{pos}"


def _delete(data: bytes, rng: random.Random, _: bytes) -> tuple[bytes, str]:
    if not data:
        return data, "delete(empty)"
    pos = _offset(rng, len(data))
    n = rng.choice([1, 1, 2, 3, 8, 64, 512])
    return data[:pos] + data[pos + n:], f"delete{n}@{pos}"


_BOUNDARY = (b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00", b"\xff\xff", b"\xff\x7f",
             b"\x00\x80", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\xff\xff\xff\x7f",
             b"\x00\x00\x00\x80", b"\x00\x00\x00\x10")


def _boundary(data: bytes, rng: random.Random, _: bytes) -> tuple[bytes, str]:
    """Overwrite 1, 2 or 4 bytes with a boundary value (0, -1, max, min; 0x10000000 is where
    FIT date_times stop being relative)."""
    if not data:
        return data, "boundary(empty)"
    value = rng.choice(_BOUNDARY)
    spans = records(data)
    if spans and rng.random() < 0.7:  # inside a record's fields, past its header byte
        start, end = rng.choice(spans)
        pos = start + 1 + rng.randrange(max(1, end - start - 1))
    else:
        pos = _offset(rng, len(data))
    out = bytearray(data)
    out[pos:pos + len(value)] = value
    return bytes(out[:max(len(data), pos + len(value))]), f"boundary@{pos}={value.hex()}"


def _header(data: bytes, rng: random.Random, _: bytes) -> tuple[bytes, str]:
    out = bytearray(data.ljust(14, b"\x00")) if len(data) < 14 else bytearray(data)
    choice = rng.randrange(6)
    if choice == 0:
        value = rng.choice([0, 1, 11, 12, 13, 14, 15, 255, rng.randrange(256)])
        out[0] = value
        what = f"header_size={value}"
    elif choice == 1:
        value = rng.choice([0, 0x10, 0x20, 0x21, 0xFF, rng.randrange(256)])
        out[1] = value
        what = f"protocol={value:#x}"
    elif choice == 2:
        value = rng.choice([0, 0xFFFF, rng.randrange(65536)])
        out[2:4] = value.to_bytes(2, "little")
        what = f"profile={value}"
    elif choice == 3:
        real = int.from_bytes(out[4:8], "little")
        value = rng.choice([0, 1, 0xFFFFFFFF, 0x7FFFFFFF, real + 1, max(0, real - 1),
                            real + rng.randrange(1, 4096), max(0, real - rng.randrange(1, 4096))])
        out[4:8] = (value & 0xFFFFFFFF).to_bytes(4, "little")
        what = f"data_size={value & 0xFFFFFFFF}"
    elif choice == 4:
        pos = 8 + rng.randrange(4)
        out[pos] = rng.randrange(256)
        what = f"signature[{pos - 8}]={out[pos]:#x}"
    else:
        value = rng.choice([0, 0xFFFF, rng.randrange(65536)])
        out[12:14] = value.to_bytes(2, "little")
        what = f"header_crc={value:#06x}"
    return bytes(out), "header:" + what


def _swap_records(data: bytes, rng: random.Random, _: bytes) -> tuple[bytes, str]:
    spans = records(data)
    if len(spans) >= 2:
        i = rng.randrange(len(spans) - 1)
        j = i + 1 if rng.random() < 0.5 else rng.randrange(i + 1, len(spans))
        (a0, a1), (b0, b1) = spans[i], spans[j]
        return (data[:a0] + data[b0:b1] + data[a1:b0] + data[a0:a1] + data[b1:],
                f"swap_records {i}<->{j}")
    if len(data) < 8:
        return data, "swap_chunks(short)"
    n = rng.randrange(1, max(2, len(data) // 8))
    a = rng.randrange(len(data) - 2 * n + 1) if len(data) >= 2 * n else 0
    b = rng.randrange(a + n, len(data) - n + 1) if len(data) - n >= a + n else a + n
    return (data[:a] + data[b:b + n] + data[a + n:b] + data[a:a + n] + data[b + n:],
            f"swap_chunks {n}@{a}<->{b}")


def _duplicate(data: bytes, rng: random.Random, _: bytes) -> tuple[bytes, str]:
    spans = records(data)
    if spans and rng.random() < 0.7:
        i = rng.randrange(len(spans))
        k = rng.choice([1, 1, 2, 5])
        start, end = spans[i][0], spans[min(len(spans) - 1, i + k - 1)][1]
        return data[:end] + data[start:end] + data[end:], f"dup_records {i}+{k}"
    if not data:
        return data, "dup_chunk(empty)"
    pos = rng.randrange(len(data))
    n = rng.choice([1, 4, 16, 256, 4096])
    return data[:pos + n] + data[pos:pos + n] + data[pos + n:], f"dup_chunk{n}@{pos}"


def _splice(data: bytes, rng: random.Random, other: bytes) -> tuple[bytes, str]:
    """The start of this file then the rest of another (or the whole other: a chained file)."""
    if rng.random() < 0.3:
        return data + other, "chain+other"
    a, b = rng.randrange(len(data) + 1), rng.randrange(len(other) + 1)
    return data[:a] + other[b:], f"splice {a}|other@{b}"


Mutator = Callable[[bytes, random.Random, bytes], tuple[bytes, str]]
MUTATORS: dict[str, Mutator] = {
    "truncate": _truncate, "bitflip": _bitflip, "insert": _insert, "delete": _delete,
    "boundary": _boundary, "header": _header, "swap": _swap_records, "duplicate": _duplicate,
    "splice": _splice,
}


@dataclass(frozen=True)
class Mutant:
    seed: int
    index: int
    sample: str  # path in the corpus
    ops: tuple[str, ...]
    data: bytes

    @property
    def case_id(self) -> str:
        return f"{self.seed}/{self.index}"

    @property
    def name(self) -> str:
        return f"m{self.seed}-{self.index}.fit"

    def describe(self) -> str:
        return f"{self.case_id} {self.sample} [{'; '.join(self.ops)}] ({len(self.data)} bytes)"


def make_mutant(seed: int, index: int, samples: Sequence[tuple[str, bytes]]) -> Mutant:
    """Mutant ``index`` of run ``seed``: the same samples give the same bytes."""
    rng = random.Random(f"trainledger-fuzz/{seed}/{index}")
    path, data = samples[rng.randrange(len(samples))]
    other = samples[rng.randrange(len(samples))][1]
    ops = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        name = rng.choice(list(MUTATORS))
        data, what = MUTATORS[name](data, rng, other)
        ops.append(what)
    fix = rng.random()
    if fix < 0.35:
        data = fix_up(data, size=True)
        ops.append("fix:size+crc")
    elif fix < 0.7:
        data = fix_up(data, size=False)
        ops.append("fix:crc")
    return Mutant(seed, index, path, tuple(ops), data)


def mutants(seed: int, count: int, samples: Sequence[tuple[str, bytes]],
            start: int = 0) -> Iterator[Mutant]:
    for index in range(start, start + count):
        yield make_mutant(seed, index, samples)


# ------------------------------------------------------------------ decoding directly


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the block after ``seconds`` (main thread only; elsewhere the
    block just runs)."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def on_alarm(_signum: int, _frame: FrameType | None) -> None:
        raise Hang(f"over {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class DecodeOutcome:
    mutant: Mutant
    call: str  # e.g. "decode[fast,salvage]" or "prepare[strict]"
    result: str  # "ok", "FitError", "rejected", "skipped", or the failure
    seconds: float
    failed: bool = False
    detail: str = ""


def check_decode(m: Mutant, backends: Sequence[str] = ("fast",),
                 timeout: float = 5.0) -> list[DecodeOutcome]:
    """Decode and plan one mutant every way the intake could; only FitError may come out."""
    from ingest.fit import FitError, decode
    from ingest.fit.decoded import Backend, resolve_backend
    from ingest.fit.importer import prepare

    calls: list[tuple[str, Callable[[], str]]] = []
    for name in backends:
        backend: Backend = resolve_backend(name)
        for salvage in (False, True):
            def run(backend: Backend = backend, salvage: bool = salvage) -> str:
                decode(m.data, backend=backend, check_crc=not salvage, salvage=salvage)
                return "ok"
            calls.append((f"decode[{name},{'salvage' if salvage else 'strict'}]", run))
    for salvage in (False, True):
        def plan(salvage: bool = salvage) -> str:
            prepared = prepare(m.name, m.data, salvage=salvage)
            if prepared.rejected is not None:
                return "rejected"
            assert prepared.plan is not None
            return "skipped" if prepared.plan.skipped else "planned"
        calls.append((f"prepare[{'salvage' if salvage else 'strict'}]", plan))
    out = []
    for label, call in calls:
        started = time.perf_counter()
        try:
            with time_limit(timeout):
                result = call()
            outcome = DecodeOutcome(m, label, result, time.perf_counter() - started)
        except FitError:
            outcome = DecodeOutcome(m, label, "FitError", time.perf_counter() - started)
        except Hang as exc:
            outcome = DecodeOutcome(m, label, "hang", time.perf_counter() - started, True,
                                    str(exc))
        except Exception as exc:
            outcome = DecodeOutcome(m, label, type(exc).__name__, time.perf_counter() - started,
                                    True, _short_traceback(exc))
        if not outcome.failed and outcome.seconds > timeout:
            outcome.failed, outcome.detail = True, f"took {outcome.seconds:.1f} s"
        out.append(outcome)
    return out


def _short_traceback(exc: BaseException, frames: int = 4) -> str:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "".join(lines[-(frames * 2 + 1):]).strip()


# ------------------------------------------------------------------ uploading


class HttpClient(Protocol):
    """What the upload fuzzer needs of a client: fastapi's TestClient and httpx.Client fit."""

    def post(self, url: str, *, params: Any = ..., files: Any = ..., json: Any = ...,
             headers: Any = ...) -> Any: ...


@dataclass
class UploadOutcome:
    mutant: Mutant
    status: str  # imported | duplicate | skipped | rejected, else what went wrong
    reason: str | None
    seconds: float  # time in the intake (from the import's own timestamps)
    problems: list[str] = field(default_factory=list)


def _when(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


def active_sets(data: bytes) -> int:
    """The set messages the importer makes sets of (set_type active or missing), decoding as
    the upload does (CRC checked)."""
    from ingest.fit import decode

    rows = decode(data, check_crc=True).table("set").rows()
    return sum(1 for r in rows if r.get("set_type") in (None, "active"))


def upload_batch(client: HttpClient, rt: Any, admin: dict[str, str], batch: Sequence[Mutant],
                 timeout: float) -> list[UploadOutcome]:
    """Upload these mutants in one request, for a fresh athlete, and check every answer and
    every event recorded meanwhile."""
    from services.domain.session import TrainingSession

    created = client.post("/athletes", json={"name": f"Fuzz {uuid.uuid4().hex[:6]}"},
                          headers=admin)
    if created.status_code != 201:
        raise RuntimeError(f"cannot create an athlete: {created.status_code} {created.text}")
    athlete_id = created.json()["athlete"]["athlete_id"]
    token = created.json()["token"]
    before = int(rt.app.recorder.max_notification_id() or 0)
    wait = min(60.0, timeout * len(batch) + 1)
    response = client.post(
        f"/athletes/{athlete_id}/imports/fit", params={"wait": wait},
        files=[("files", (m.name, m.data, "application/octet-stream")) for m in batch],
        headers={"Authorization": f"Bearer {token}"})
    if response.status_code != 202:
        return [UploadOutcome(m, f"HTTP {response.status_code}", None, 0.0,
                              [f"HTTP {response.status_code}: {response.text[:300]}"])
                for m in batch]
    answers = response.json()
    if not isinstance(answers, list) or len(answers) != len(batch):
        return [UploadOutcome(m, "bad answer", None, 0.0, [f"answer: {str(answers)[:300]}"])
                for m in batch]
    # every event recorded meanwhile, by the import that recorded it
    by_import: Counter[str | None] = Counter()
    new = rt.app.recorder.select_notifications(start=before + 1, limit=1_000_000)
    for notification in new:
        event = rt.app.mapper.to_domain_event(notification)
        by_import[(getattr(event, "source", None) or {}).get("import_id")] += 1
    outcomes: list[UploadOutcome] = []
    previous_end: float | None = None
    seen: set[str] = set()
    for m, answer in zip(batch, answers, strict=True):
        request = answer.get("request") or {}
        import_id = request.get("import_id")
        status = str(answer.get("status"))
        submitted, finished = _when(request.get("submitted_at")), _when(
            request.get("finished_at"))
        seconds = 0.0
        if submitted is not None and finished is not None:
            seconds = finished - max(submitted, previous_end or submitted)
            previous_end = finished
        outcome = UploadOutcome(m, status, answer.get("reason"), seconds)
        outcomes.append(outcome)
        if answer.get("file") != m.name:
            outcome.problems.append(f"answer for {answer.get('file')!r}, not {m.name!r}")
        if status not in FINAL:
            outcome.problems.append(f"status {status!r} after waiting {wait:.0f} s "
                                    f"(reason {answer.get('reason')!r})")
            continue
        if seconds > timeout:
            outcome.problems.append(f"{seconds:.1f} s in the intake (limit {timeout} s)")
        recorded = by_import.get(import_id, 0)
        if import_id is not None:
            seen.add(import_id)
        if status != "imported":
            if recorded:
                outcome.problems.append(f"{status} but {recorded} events recorded")
            continue
        if not recorded:
            outcome.problems.append("imported but no event recorded")
        result = request.get("result") or {}
        for session_id in result.get("session_ids", []):
            session = rt.app.session(session_id)
            if not isinstance(session, TrainingSession) or session.ended_at is None:
                outcome.problems.append(f"session {session_id} has no end")
            own = any(e.originator_id == session.id and (e.source or {}).get("import_id")
                      == import_id for e in _session_events(rt, session_id))
            if own:
                expected = active_sets(m.data)
                if len(session.sets) != expected:
                    outcome.problems.append(f"session {session_id}: {len(session.sets)} sets, "
                                            f"the file has {expected} active set messages")
    strays = {k: v for k, v in by_import.items() if k not in seen}
    if strays:
        outcomes[-1].problems.append(f"events from no upload of this batch: {strays}")
    return outcomes


def _session_events(rt: Any, session_id: str) -> list[Any]:
    return [rt.app.mapper.to_domain_event(s)
            for s in rt.app.recorder.select_events(uuid.UUID(session_id), limit=1)]


# ------------------------------------------------------------------ the API, with schemathesis


@dataclass
class ApiFailure:
    role: str
    operation: str
    kind: str  # the check that failed, or "exception"
    message: str
    request: str  # enough to send it again

    def __str__(self) -> str:
        return f"[{self.role}] {self.operation}: {self.kind}: {self.message}\n    {self.request}"


@dataclass
class ApiReport:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    per_operation: Counter[str] = field(default_factory=Counter)
    failures: list[ApiFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # operations a strategy could not serve
    seconds: float = 0.0
    with_control: int = 0  # cases whose strings got a control character
    read_backs: int = 0  # list and view reads after accepted writes
    slowest: list[tuple[float, str, str]] = field(default_factory=list)  # (s, role op, request)

    def timed(self, seconds: float, label: str, case: Any, keep: int = 5) -> None:
        if len(self.slowest) < keep or seconds > self.slowest[-1][0]:
            self.slowest.append((seconds, label, _request_of(case)))
            self.slowest.sort(key=lambda x: -x[0])
            del self.slowest[keep:]

    def unique_failures(self) -> list[ApiFailure]:
        out: dict[tuple[str, str, str, str], ApiFailure] = {}
        for f in self.failures:
            out.setdefault((f.role, f.operation, f.kind, f.message.splitlines()[0][:120]), f)
        return list(out.values())


@dataclass
class World:
    """A seeded athlete's real ids (path parameters) and a token per role."""

    known: dict[str, str]
    headers: dict[str, dict[str, str]]


def seed_world(client: HttpClient, admin: dict[str, str]) -> World:
    """An athlete with a session and a set, a goal, an observation, a plan, an import, a spare
    token and a granted coach; and a second athlete only there to be erased."""

    def ok(response: Any) -> Any:
        assert response.status_code in (200, 201, 202), response.text
        return response.json()

    now = datetime.now(UTC)
    a = ok(client.post("/athletes", json={"name": "Fuzz Owner"}, headers=admin))
    athlete_id, me = a["athlete"]["athlete_id"], {"Authorization": f"Bearer {a['token']}"}
    victim = ok(client.post("/athletes", json={"name": "Fuzz Erased"}, headers=admin))
    session = ok(client.post(f"/athletes/{athlete_id}/sessions", json={
        "started_at": (now - timedelta(hours=2)).isoformat(),
        "sets": [{"exercise_id": SQUAT, "reps": 5, "load": 100}]}, headers=me))
    goal = ok(client.post(f"/athletes/{athlete_id}/goals", json={
        "title": "Squat 140", "metric": {"kind": "e1rm", "exercise_id": SQUAT},
        "target_value": 140}, headers=me))
    observation = ok(client.post(f"/athletes/{athlete_id}/observations", json={
        "metric": "body_mass", "value": 80, "unit": "kg",
        "observed_at": (now - timedelta(hours=3)).isoformat()}, headers=me))
    monday = (now - timedelta(days=now.weekday())).date()
    plan = ok(client.post(f"/athletes/{athlete_id}/plans", json={"week_start": monday.isoformat()},
                          headers=me))
    imported = ok(client.post(f"/athletes/{athlete_id}/imports", json={
        "sessions": [{"started_at": (now - timedelta(days=2)).isoformat()}]}, headers=me))
    spare = ok(client.post(f"/athletes/{athlete_id}/tokens", json={"label": "spare"},
                           headers=me))
    coach = ok(client.post("/coaches", json={"name": "Fuzz Coach"}, headers=admin))
    ok(client.post(f"/athletes/{athlete_id}/grants", json={"coach_id": coach["coach"]["coach_id"]},
                   headers=me))
    known = {
        "athlete_id": athlete_id,
        "session_id": session["session_id"],
        "set_id": session["sets"][0]["set_id"],
        "goal_id": goal["goal_id"],
        "observation_id": observation["observation_id"],
        "week_start": plan["week_start"],
        "planned_session_id": plan["sessions"][0]["planned_session_id"],
        "import_id": imported["import_id"],
        "token_id": spare["token_id"],
        "coach_id": coach["coach"]["coach_id"],
        "exercise_id": SQUAT,
        "view": "load",
        "erase:athlete_id": victim["athlete"]["athlete_id"],
    }
    headers = {"admin": admin, "athlete": me,
               "coach": {"Authorization": f"Bearer {coach['token']}"}}
    return World(known, headers)


#: control characters the fuzzer puts into strings: NUL, C0 and C1 controls, DEL, and the
#: three that multi-line text allows (tab, LF, CR).  Random text rarely holds one, and
#: random bodies are rarely accepted: that is how 10,806 cases missed the NUL that broke
#: PostgreSQL (RELIABILITY.md, Fuzzing).
CONTROL = ("\x00", "\x01", "\x08", "\x0b", "\x1b", "\x1f", "\x7f", "\x85", "\x9f",
           "\t", "\n", "\r")
SKIP_READ_BACK = ("/events", "/export/", "/explain", "/revision", "/tokens", "/laps",
                  "/exercises/", "/imports/", "/history")
MAX_STRINGS = 8  # strings of an accepted write sent again with a control character


def string_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Where the strings are in a JSON value (keys and indexes)."""
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in string_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in string_paths(v, (*path, i))]
    return []


def with_char(value: Any, path: tuple[Any, ...], char: str) -> Any:
    """A copy of the JSON value with ``char`` put in the middle of the string at ``path``."""
    if not path:
        return value[:len(value) // 2] + char + value[len(value) // 2:]
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: with_char(v, rest, char) if k == head else v for k, v in value.items()}
    return [with_char(v, rest, char) if i == head else v for i, v in enumerate(value)]


def readback_paths(operations: Sequence[Any], world: World) -> list[str]:
    """Every list and view the seeded ids fill in: what a stored value could break (exports,
    audit trails and single items are fuzzed as operations of their own)."""
    paths = []
    for op in operations:
        names = {p.name for p in op.path_parameters}
        if op.method.upper() != "GET" or not names or not names <= world.known.keys():
            continue
        if any(p.is_required for p in op.query):
            continue
        path = op.path
        if any(part in path for part in SKIP_READ_BACK):
            continue
        for name in names:
            path = path.replace("{" + name + "}", world.known[name])
        paths.append(path)
    return sorted(paths)


def _request_of(case: Any) -> str:
    parts = [f"{case.method.upper()} {case.formatted_path}"]
    if case.query:
        parts.append(f"query={case.query!r}")
    extra = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    if extra:
        parts.append(f"headers={extra!r}")
    body = getattr(case, "body", None)
    if body is not None and type(body).__name__ != "NotSet":
        text = repr(body)
        parts.append(f"body={text[:400]}{'...' if len(text) > 400 else ''}")
    return " ".join(parts)


def fuzz_api(app: Any, world: World, examples: int, roles: Sequence[str] = ("admin", "athlete"),
             seed: int | None = 0, progress: Callable[[str], None] | None = None) -> ApiReport:
    """Every operation of ``app``, ``examples`` cases per operation and role; failures are
    collected, not raised."""
    import schemathesis
    from fastapi.testclient import TestClient
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.failures import Failure, FailureGroup
    from schemathesis.core.result import Ok
    from schemathesis.specs.openapi.checks import (
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, response_schema_conformance]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    reader = TestClient(app, raise_server_exceptions=False)
    report = ApiReport()
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        else:  # the schema itself is wrong about this operation
            report.failures.append(ApiFailure("-", "schema", "InvalidSchema", str(result.err()),
                                              ""))
    started = time.perf_counter()
    reads = readback_paths(operations, world)

    def read_back(case: Any, record: Callable[[str, str, Any], None]) -> None:
        """After a write was accepted: every list and view of the seeded athlete still
        answers (a stored value no read can take once broke them all, on PostgreSQL)."""
        for path in reads:
            response = reader.get(path, headers=world.headers["admin"])
            report.read_backs += 1
            if response.status_code >= 500:
                record("read after write", f"GET {path}: {response.status_code} "
                       f"{response.text[:200]}", case)

    def exercise(role: str, headers: dict[str, str], label: str, strategy: Any) -> None:
        def record(kind: str, message: str, case: Any) -> None:
            report.failures.append(ApiFailure(role, label, kind, message, _request_of(case)))

        def send(case: Any) -> Any:
            """One request, checked; the response, or None if the app raised."""
            report.cases += 1
            report.per_operation[label] += 1
            started = time.perf_counter()
            try:
                response = case.call(headers=headers, timeout=90)
            except Exception as exc:  # the app raised: the client saw a 500
                record("exception", f"{type(exc).__name__}: {exc}"[:500], case)
                return None
            finally:
                report.timed(time.perf_counter() - started, f"[{role}] {label}", case)
            report.statuses[response.status_code] += 1
            check(case, response)
            return response

        def accepted(response: Any) -> bool:
            return response is not None and 200 <= response.status_code < 300

        def with_controls(case: Any, draw: int) -> None:
            """An accepted write, sent again with a control character in each of its
            strings in turn (NUL first; no idempotency key: each is a new request)."""
            body, sent_headers = case.body, case.headers
            case.headers = {k: v for k, v in (sent_headers or {}).items()
                            if k.lower() != "idempotency-key"}
            try:
                for i, path in enumerate(string_paths(body)[:MAX_STRINGS]):
                    case.body = with_char(body, path, "\x00" if i == 0 else
                                          CONTROL[(draw + i) % len(CONTROL)])
                    report.with_control += 1
                    send(case)
            finally:
                case.body, case.headers = body, sent_headers

        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate])
        @given(case=strategy, draw=st.integers(0, 10_000))
        def run(case: Any, draw: int) -> None:
            query = dict(case.query or {})
            spots = string_paths(query)
            if spots and draw % 2:  # a control character in one query string
                case.query = with_char(query, spots[draw % len(spots)], CONTROL[draw % 12])
                report.with_control += 1
            if accepted(send(case)) and case.method.upper() != "GET":
                if isinstance(case.body, dict | list):
                    with_controls(case, draw)
                read_back(case, record)  # what the write and its variants stored

        def check(case: Any, response: Any) -> None:
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except FailureGroup as group:
                for failure in group.exceptions:
                    record(type(failure).__name__, str(failure)[:800], case)
            except Failure as failure:
                record(type(failure).__name__, str(failure)[:800], case)

        test = hypothesis_seed(seed)(run) if seed is not None else run
        try:
            test()
        except Exception as exc:  # a strategy that cannot generate for this operation
            report.notes.append(f"[{role}] {label}: {type(exc).__name__}: {exc}"[:300])

    for role in roles:
        for op in operations:
            names = {p.name for p in op.path_parameters}
            known = {n: world.known[n] for n in names if n in world.known}
            if op.method.upper() == "DELETE" and op.path == "/athletes/{athlete_id}":
                known["athlete_id"] = world.known["erase:athlete_id"]
            variants = [op.as_strategy()]
            if known:
                variants.append(op.as_strategy(path_parameters=known))
            variants.append(op.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
            label = f"{op.method.upper()} {op.path}"
            exercise(role, world.headers[role], label, st.one_of(*variants))
            if progress is not None:
                progress(f"[{role}] {label}: {report.per_operation[label]} cases")
    report.seconds = time.perf_counter() - started
    return report


# ------------------------------------------------------------------ running


@contextlib.contextmanager
def open_store(store: str) -> Iterator[Any]:
    """A fresh runtime (SQLite in a temporary folder, or a PostgreSQL schema of its own) with
    the in-process intake worker running; dropped afterwards."""
    from services.config import Settings
    from services.runtime import open_runtime
    from services.workers import Workers

    schema = f"tl_fuzz_{uuid.uuid4().hex[:10]}" if store == "postgres" else None
    with tempfile.TemporaryDirectory(prefix="tl-fuzz-") as folder:
        url = f"{PG_URL}?schema={schema}" if schema else None
        rt = open_runtime(Settings(data_dir=Path(folder), database_url=url,
                                   admin_token="tla_fuzz-admin"))
        workers = Workers(rt, relay=False, views=[], log_feed=False).start()
        try:
            yield rt
        finally:
            workers.stop()
            rt.close()
            if schema:
                import psycopg
                from psycopg import sql

                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(schema)))


ADMIN_HEADERS = {"Authorization": "Bearer tla_fuzz-admin"}


def _api(args: argparse.Namespace) -> int:
    from fastapi.testclient import TestClient

    from services.api.app import create_app

    roles = args.roles.split(",")
    with open_store(args.store) as rt:
        app = create_app(rt)
        with TestClient(app, raise_server_exceptions=False) as client:
            world = seed_world(client, ADMIN_HEADERS)
        report = fuzz_api(app, world, args.examples, roles, seed=args.seed,
                          progress=(lambda line: print(line, flush=True)) if args.verbose
                          else None)
    unique = report.unique_failures()
    print(f"\nAPI fuzz ({args.store}, roles {', '.join(roles)}, {args.examples} examples per "
          f"operation and role, seed {args.seed}): {report.cases} cases over "
          f"{len(report.per_operation)} operations in {report.seconds:.1f} s")
    print("statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(report.statuses.items())))
    for note in report.notes:
        print(f"note: {note}")
    for seconds, label, request in report.slowest:
        print(f"slow: {seconds:.2f} s {label}: {request[:300]}")
    print(f"failures: {len(report.failures)} ({len(unique)} distinct)")
    for failure in unique:
        print(f"  {failure}")
    return 1 if report.failures else 0


def _fit(args: argparse.Namespace) -> int:
    from fastapi.testclient import TestClient

    from services.api.app import create_app

    samples = load_samples(args.max_size)
    if not samples:
        print(f"no FIT corpus at {corpus_dir()} (set {CORPUS_ENV})", file=sys.stderr)
        return 2
    backends = args.backends.split(",")
    cases = list(mutants(args.seed, args.fit, samples))
    print(f"{len(cases)} mutants of {len(samples)} samples (<= {args.max_size} bytes), "
          f"seed {args.seed}; decode on {', '.join(backends)}; uploads of {args.batch} files "
          f"on {args.store}", flush=True)
    started = time.perf_counter()
    decoded: list[DecodeOutcome] = []
    for m in cases:
        decoded.extend(check_decode(m, backends, args.timeout))
    decode_s = time.perf_counter() - started
    uploads: list[UploadOutcome] = []
    started = time.perf_counter()
    if not args.no_upload:
        with open_store(args.store) as rt, TestClient(create_app(rt),
                                                      raise_server_exceptions=False) as client:
            for i in range(0, len(cases), args.batch):
                uploads.extend(upload_batch(client, rt, ADMIN_HEADERS, cases[i:i + args.batch],
                                            args.timeout))
                if args.verbose:
                    print(f"  uploaded {len(uploads)}", flush=True)
    upload_s = time.perf_counter() - started
    return _fit_report(args, cases, decoded, uploads, decode_s, upload_s)


def _fit_report(args: argparse.Namespace, cases: list[Mutant], decoded: list[DecodeOutcome],
                uploads: list[UploadOutcome], decode_s: float, upload_s: float) -> int:
    print(f"\ndirect calls: {len(decoded)} in {decode_s:.1f} s")
    by_call: dict[str, Counter[str]] = {}
    for d in decoded:
        by_call.setdefault(d.call, Counter())[d.result] += 1
    for call, counts in by_call.items():
        print(f"  {call:28} " + ", ".join(f"{k}: {v}" for k, v in counts.most_common()))
    if decoded:
        slow = max(decoded, key=lambda d: d.seconds)
        print(f"  slowest: {slow.seconds * 1000:.0f} ms {slow.call} {slow.mutant.describe()}")
    if uploads:
        print(f"uploads: {len(uploads)} files in {upload_s:.1f} s")
        print("  statuses: " + ", ".join(
            f"{k}: {v}" for k, v in Counter(u.status for u in uploads).most_common()))
        slow_u = max(uploads, key=lambda u: u.seconds)
        print(f"  slowest in the intake: {slow_u.seconds * 1000:.0f} ms "
              f"{slow_u.mutant.describe()} -> {slow_u.status}")
    failed = [d for d in decoded if d.failed]
    problems = [u for u in uploads if u.problems]
    print(f"failures: {len(failed)} direct, {len(problems)} uploads")
    shown: set[str] = set()
    for d in failed:
        key = f"{d.call}:{d.result}:{d.detail.splitlines()[-1] if d.detail else ''}"
        if key in shown:
            continue
        shown.add(key)
        print(f"  {d.call} -> {d.result}: {d.mutant.describe()}\n"
              f"    reproduce: python -m bench.fuzz --fit-case {d.mutant.case_id} "
              f"--max-size {args.max_size}\n    " + d.detail.replace("\n", "\n    "))
    for u in problems[:20]:
        print(f"  upload {u.mutant.describe()} -> {u.status}: {'; '.join(u.problems)}\n"
              f"    reproduce: python -m bench.fuzz --fit-case {u.mutant.case_id} "
              f"--max-size {args.max_size}")
    return 1 if failed or problems else 0


def _fit_case(args: argparse.Namespace) -> int:
    seed_s, _, index_s = args.fit_case.partition("/")
    samples = load_samples(args.max_size)
    m = make_mutant(int(seed_s), int(index_s), samples)
    print(m.describe())
    if args.save:
        Path(args.save).write_bytes(m.data)
        print(f"written to {args.save}")
    failed = False
    for d in check_decode(m, args.backends.split(","), args.timeout):
        failed |= d.failed
        print(f"{d.call:28} {d.result} in {d.seconds * 1000:.0f} ms"
              + (f"\n{d.detail}" if d.detail else ""))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split("\n")[0])
    ap.add_argument("--api", action="store_true", help="schemathesis over the OpenAPI schema")
    ap.add_argument("--examples", type=int, default=60, help="cases per operation and role")
    ap.add_argument("--roles", default="admin,athlete,coach")
    ap.add_argument("--fit", type=int, metavar="N", help="N mutated FIT files")
    ap.add_argument("--fit-case", metavar="SEED/INDEX", help="one mutant again")
    ap.add_argument("--save", help="with --fit-case: write the mutant's bytes here")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=10, help="files per upload request")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds a file may take")
    ap.add_argument("--max-size", type=int, default=160_000,
                    help="mutate samples up to this size (bytes)")
    ap.add_argument("--backends", default="fast", help="decoder backends to call directly")
    ap.add_argument("--no-upload", action="store_true", help="--fit: direct calls only")
    ap.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if not (args.api or args.fit or args.fit_case):
        ap.error("say --api, --fit N or --fit-case SEED/INDEX")
    status = 0
    if args.fit_case:
        return _fit_case(args)
    if args.api:
        status |= _api(args)
    if args.fit:
        status |= _fit(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
