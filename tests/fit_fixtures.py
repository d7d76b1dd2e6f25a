"""FIT files of our own, built in memory by ``ingest.fit.encode`` (deterministic, no corpus).

Each ``Fixture`` carries what a decoder must find in it (``counts``: data messages per name,
as fitdecode names them) and the quirks it exercises.  Valid files:

- ``run``: a Forerunner run, summary last: records with compressed-timestamp headers, a pause,
  three big-endian laps, an unknown message and field, invalid power, NUL-padded names,
  local numbers redefined mid-file, the user's max and resting HR;
- ``ride``: an Edge ride, summary first: ``compressed_speed_distance`` and accumulated
  ``cycles`` components, ``altitude`` -> ``enhanced_altitude``, 12-byte old header;
- ``strength``: sets with candidate categories, an unknown category (65534), rests;
- ``hrv``: a 5-minute reading with R-R intervals; ``stryd``: a run with developer fields;
- ``multisport``: swim, bike, run; ``chained``: an activity followed by a second FIT file;
- ``weight``, ``weight_multi`` (two users), ``workout`` (repeat steps), ``monitoring``.

Damaged: ``truncated`` (cut inside a record, session lost), ``zero_size`` (an unfinished
recording: data size 0, no CRC; ``zero_size_ride`` without a sport message), ``corrupt``
(flipped bits: CRC mismatch).
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from ingest.fit.encode import (
    BYTE,
    ENUM,
    FLOAT32,
    SINT32,
    STRING,
    UINT8,
    UINT16,
    UINT32,
    UINT32Z,
    FitWriter,
    Raw,
    Str,
    fit_time,
    semicircles,
)

#: a Monday morning, in UTC
START = datetime(2026, 5, 4, 6, 30, tzinfo=UTC)
GARMIN, STRYD_DEV = 1, 95
SERIAL = 3_456_789_012


@dataclass(frozen=True)
class Fixture:
    name: str
    data: bytes
    kind: str  # valid | truncated | zero_size | corrupt
    file_type: str
    sport: str  # "+"-joined leg sports, "-" for no activity
    started: datetime | None = None  # an activity's start; a workout's creation
    counts: dict[str, int] = field(default_factory=dict)
    quirks: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return self.kind == "valid"

    @property
    def filename(self) -> str:
        return f"{self.name}.fit"

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / self.filename
        path.write_bytes(self.data)
        return path


class _Counted(FitWriter):
    """A writer that counts the data messages it writes, per global number."""

    def __init__(self, protocol: int = 0x20) -> None:
        super().__init__(protocol)
        self.counts: Counter[int] = Counter()

    def message(self, local, mesg_num, fields, dev=(), *, big_endian=False):  # type: ignore[no-untyped-def]
        super().message(local, mesg_num, fields, dev, big_endian=big_endian)
        self.counts[mesg_num] += 1

    def compressed(self, local, timestamp, values, dev_values=()):  # type: ignore[no-untyped-def]
        super().compressed(local, timestamp, values, dev_values)
        self.counts[self._layouts[local].mesg_num] += 1


NAMES = {0: "file_id", 3: "user_profile", 7: "zones_target", 12: "sport", 18: "session",
         19: "lap", 20: "record", 21: "event", 23: "device_info", 26: "workout",
         27: "workout_step", 30: "weight_scale", 34: "activity", 55: "monitoring",
         78: "hrv", 103: "monitoring_info", 206: "field_description",
         207: "developer_data_id", 211: "monitoring_hr_data", 225: "set"}


def _named(counts: dict[int, int]) -> dict[str, int]:
    return {NAMES.get(n, f"unknown_{n}"): c for n, c in counts.items()}


def _file_id(w: FitWriter, file_type: int, created: datetime, *, product: int = 4315,
             serial: int | None = SERIAL, name: str | None = None,
             manufacturer: int = GARMIN, local: int = 0) -> None:
    fields = [(0, ENUM, file_type), (1, UINT16, manufacturer), (2, UINT16, product),
              (3, UINT32Z, serial), (4, UINT32, fit_time(created))]
    if name is not None:
        fields.append((8, STRING, Str(name, 20)))
    w.message(local, 0, fields)


def _event(w: FitWriter, t: int, event_type: int, local: int = 3) -> None:
    w.message(local, 21, [(253, UINT32, t), (0, ENUM, 0), (1, ENUM, event_type),
                          (3, UINT32, 0)])


def _session(w: FitWriter, start: int, end: int, sport: int, sub: int, *, timer: float,
             distance: float | None, avg_hr: int | None, max_hr: int | None, index: int = 0,
             first_lap: int = 0, laps: int = 1, local: int = 5,
             dev: tuple[tuple[int, object, int, object], ...] = ()) -> None:
    w.message(local, 18, [
        (254, UINT16, index), (253, UINT32, end), (0, ENUM, 8), (1, ENUM, 1),
        (2, UINT32, start), (5, ENUM, sport), (6, ENUM, sub),
        (7, UINT32, (end - start) * 1000), (8, UINT32, round(timer * 1000)),
        (9, UINT32, None if distance is None else round(distance * 100)),
        (16, UINT8, avg_hr), (17, UINT8, max_hr), (25, UINT16, first_lap),
        (26, UINT16, laps)], dev)  # type: ignore[arg-type]


def _lap(w: FitWriter, index: int, start: int, end: int, *, distance: float | None,
         avg_hr: int | None, max_hr: int | None, timer: float | None = None,
         sport: int = 1, big_endian: bool = False, local: int = 4) -> None:
    w.message(local, 19, [
        (254, UINT16, index), (253, UINT32, end), (0, ENUM, 9), (1, ENUM, 1),
        (2, UINT32, start), (7, UINT32, (end - start) * 1000),
        (8, UINT32, round((timer if timer is not None else end - start) * 1000)),
        (9, UINT32, None if distance is None else round(distance * 100)),
        (15, UINT8, avg_hr), (16, UINT8, max_hr), (24, ENUM, 2), (25, ENUM, sport)],
        big_endian=big_endian)


def _activity(w: FitWriter, end: int, timer: float, sessions: int = 1,
              offset_s: int = 7200) -> None:
    w.message(6, 34, [(253, UINT32, end), (0, UINT32, round(timer * 1000)),
                      (1, UINT16, sessions), (2, ENUM, 0 if sessions == 1 else 1),
                      (3, ENUM, 26), (4, ENUM, 1), (5, UINT32, end + offset_s)])


def _recording(start: datetime, serial: int | None, product: int = 4315,
               protocol: int = 0x20) -> tuple[_Counted, int]:
    """A counting writer with an activity's ``file_id`` written, and the start's FIT time."""
    w = _Counted(protocol)
    _file_id(w, 4, start, product=product, serial=serial)
    return w, fit_time(start)


def _summary(w: FitWriter, start: int, end: int, sport: int, sub: int, *,
             distance: float | None, avg_hr: int, max_hr: int, timer: float | None = None,
             laps: int = 1, lap_sport: int | None = None,
             dev: tuple[tuple[int, object, int, object], ...] = ()) -> None:
    """An activity's summary, last: the stop event, one lap (when ``lap_sport`` is given), the
    session and the activity; ``timer`` defaults to the elapsed time."""
    timer = end - start if timer is None else timer
    _event(w, end, 4)
    if lap_sport is not None:
        _lap(w, 0, start, end, distance=distance, avg_hr=avg_hr, max_hr=max_hr, sport=lap_sport)
    _session(w, start, end, sport, sub, timer=timer, distance=distance, avg_hr=avg_hr,
             max_hr=max_hr, laps=laps, dev=dev)
    _activity(w, end, timer)


def _valid(name: str, w: _Counted, file_type: str, sport: str, started: datetime | None,
           quirks: tuple[str, ...], data: bytes | None = None) -> Fixture:
    """A valid fixture from its writer (``data``: when not the writer's finished file)."""
    return Fixture(name, w.finish() if data is None else data, "valid", file_type, sport,
                   started, _named(w.counts), quirks)


def _hr(i: int, base: int = 128, swing: int = 14) -> int:
    return base + round(swing * math.sin(i / 23.0)) + (i % 7) // 3


# --- activities -------------------------------------------------------------------------------


def _run_file(start: datetime = START, serial: int | None = SERIAL, n: int = 300,
              step: int = 5, product: int = 4315) -> tuple[bytes, _Counted, int]:
    """The ``run`` fixture's bytes, its writer, and the byte offset where the summary starts."""
    w, t0 = _recording(start, serial, product)
    # local 0 redefined: device_info with a NUL-padded name wider than its text
    w.message(0, 23, [(253, UINT32, t0), (0, UINT8, 0), (2, UINT16, GARMIN),
                      (3, UINT32Z, serial), (4, UINT16, 4315), (5, UINT16, 1520),
                      (27, STRING, Str("Forerunner 965", 20))])
    w.message(1, 3, [(254, UINT16, 0), (1, ENUM, 1), (2, UINT8, 38), (3, UINT8, 180),
                     (4, UINT16, 725), (8, UINT8, 48), (11, UINT8, 188)])
    w.message(1, 7, [(1, UINT8, 188), (2, UINT8, 171), (3, UINT16, 300), (5, ENUM, 1)])
    w.message(1, 12, [(0, ENUM, 1), (1, ENUM, 0), (3, STRING, Str("Run", 16))])
    # an unknown manufacturer-specific message (0xFF01) with an unknown field
    w.message(2, 0xFF01, [(253, UINT32, t0), (0, UINT16, 7), (1, BYTE, (1, 2, 3, 4))])
    _event(w, t0, 0)
    # records: full layout on local 1 (an unknown field 250 and invalid power), compressed on 2
    w.define(2, 20, [(3, 1, UINT8), (5, 4, UINT32), (73, 4, UINT32)])
    lat, lon, dist = 47.3769, 8.5417, 0.0
    pause_at, pause_s = n // 2, 60
    t = t0
    lap_start, lap_index = t0, 0
    for i in range(n):
        if i == pause_at:
            _event(w, t, 4)
            t += pause_s
            _event(w, t, 0)
        speed = 3.1 + 0.4 * math.sin(i / 40.0)
        if i:
            dist += speed * step
        hr = _hr(i)
        if i % 3 == 2 and i != pause_at:
            w.compressed(2, t, [hr, round(dist * 100), round(speed * 1000)])
        else:
            lat += 0.00012
            lon += 0.00007 * math.cos(i / 50)
            w.message(1, 20, [
                (253, UINT32, t), (0, SINT32, semicircles(lat)), (1, SINT32, semicircles(lon)),
                (3, UINT8, hr), (4, UINT8, 84 + i % 4), (5, UINT32, round(dist * 100)),
                (78, UINT32, round((410 + 6 * math.sin(i / 30)) * 5 + 2500)),
                (73, UINT32, round(speed * 1000)), (7, UINT16, None), (250, UINT8, i % 200)])
        if (i + 1) % (n // 3) == 0:
            _lap(w, lap_index, lap_start, t, distance=dist, avg_hr=_hr(i) - 3, max_hr=_hr(i) + 8,
                 big_endian=True)
            lap_index += 1
            lap_start = t
        t += step
    end = t - step
    summary_at = len(w.body) + 14
    _summary(w, t0, end, 1, 0, timer=end - t0 - pause_s, distance=dist, avg_hr=130,
             max_hr=152, laps=3)
    return w.finish(), w, summary_at


def activity(start: datetime = START, serial: int | None = SERIAL, n: int = 300,
             product: int = 4315) -> bytes:
    """A run like the ``run`` fixture, started at ``start`` by a device of ``serial`` (and
    Garmin ``product``), with ``n`` records (5 s apart; about 24 bytes each)."""
    return _run_file(start, serial, n, product=product)[0]


def partial_activity(start: datetime = START, serial: int | None = SERIAL,
                     product: int = 4315) -> bytes:
    """The first part of :func:`activity` as a recording cut short writes it: cut inside
    its last lap message, no session message, no CRC."""
    data, _, summary_at = _run_file(start, serial, product=product)
    return data[: summary_at - 7]


@cache
def run() -> Fixture:
    data, w, _ = _run_file()
    return _valid("run", w, "activity", "running", START,
                  ("compressed timestamps", "local numbers redefined", "big-endian laps",
                   "invalid sentinels", "NUL-padded strings", "unknown message and field",
                   "summary last", "pause"), data)


@cache
def ultra() -> Fixture:
    """A 14-hour run at a record a second, 1.2 MB: over the API's 1 MiB general body limit.
    (Not in ``fixtures()``: it takes a second to build.)"""
    start = START + timedelta(days=10)
    data, w, _ = _run_file(start, serial=SERIAL + 14, n=50_400, step=1)
    return _valid("ultra", w, "activity", "running", start, ("large",), data)


@cache
def ride() -> Fixture:
    """An Edge ride, summary first, with component fields and an old 12-byte header."""
    start = START + timedelta(days=1, hours=10)
    w, t0 = _recording(start, SERIAL + 1, product=3843, protocol=0x10)
    n, step = 240, 10
    w.message(1, 12, [(0, ENUM, 2), (1, ENUM, 7), (3, STRING, "Road")])
    end = t0 + (n - 1) * step
    dist_total = sum(8.0 + math.sin(i / 17.0) for i in range(1, n)) * step
    _session(w, t0, end, 2, 7, timer=end - t0, distance=dist_total, avg_hr=138, max_hr=161,
             laps=1)
    _lap(w, 0, t0, end, distance=dist_total, avg_hr=138, max_hr=161, sport=2)
    _activity(w, end, end - t0)
    _event(w, t0, 0)
    dist, revs = 0.0, 0
    for i in range(n):
        speed = 8.0 + math.sin(i / 17.0)
        if i:
            dist += speed * step
            revs += round(88 * step / 60)
        packed = round(speed * 100) | (round(dist * 16) % 4096) << 12
        w.message(1, 20, [
            (253, UINT32, t0 + i * step), (3, UINT8, _hr(i, 138, 18)), (4, UINT8, 88),
            (2, UINT16, round((520 + 30 * math.sin(i / 60)) * 5 + 2500)),
            (8, BYTE, tuple(packed.to_bytes(3, "little"))), (18, UINT8, revs % 256),
            (7, UINT16, 190 + i % 40)])
    _event(w, end, 4)
    return _valid("ride", w, "activity", "cycling", start,
                  ("summary first", "component fields", "12-byte header"),
                  w.finish(header_size=12))


def _set(w: FitWriter, start: int, seconds: float, set_type: int, step: int,
         categories: tuple[int, ...], subtypes: tuple[int | None, ...],
         reps: int | None = None, weight_16: int | None = None) -> None:
    """A ``set`` message (type 1: active, 0: rest), ``step`` its workout step index."""
    w.message(7, 225, [(254, UINT32, start + round(seconds)), (0, UINT32, round(seconds * 1000)),
                       (3, UINT16, reps), (4, UINT16, weight_16), (5, UINT8, set_type),
                       (6, UINT32, start), (7, UINT16, categories), (8, UINT16, subtypes),
                       (9, UINT16, 0), (10, UINT16, step)])


#: (categories, subtypes, reps, kg or None, work s, rest s or None): candidate lists and 65534
STRENGTH_SETS: list[tuple[tuple[int, ...], tuple[int | None, ...], int, float | None, float,
                          float | None]] = [
    ((21, 8), (None, None), 12, None, 31.5, 60.5),
    ((21, 8), (None, None), 10, None, 28.0, 62.0),
    ((28,), (2,), 5, 100.0, 24.0, 120.0),
    ((28,), (2,), 5, 100.0, 25.5, 118.0),
    ((65534,), (None,), 15, 20.0, 35.0, 45.0),
    ((0, 28, 8), (1, None, None), 8, 60.0, 27.0, None),
]


@cache
def strength() -> Fixture:
    start = START + timedelta(days=2, hours=11)
    w, t0 = _recording(start, SERIAL + 2, product=4024)
    _event(w, t0, 0)
    t = t0 + 60
    for index, (cats, subs, reps, kg, work, rest) in enumerate(STRENGTH_SETS):
        _set(w, t, work, 1, index * 2, cats, subs, reps, None if kg is None else round(kg * 16))
        t += round(work)
        if rest is not None:
            _set(w, t, rest, 0, index * 2 + 1, (65535,), (65535,))
            t += round(rest)
    end = t
    for i, ts in enumerate(range(t0, end + 1, 5)):
        w.message(1, 20, [(253, UINT32, ts), (3, UINT8, _hr(i, 105, 20))])
    _summary(w, t0, end, 10, 20, distance=None, avg_hr=108, max_hr=131, lap_sport=10)
    return _valid("strength", w, "activity", "training", start,
                  ("set messages", "candidate categories", "unknown category 65534", "arrays"))



def strength_recording(start: datetime, serial: int | None = SERIAL) -> tuple[bytes, int]:
    """A strength session as the watch records it, a record every 5 s between its sets
    (``STRENGTH_SETS``), and the length of its first part: up to the fourth set, cut inside
    the next record (salvage reads three sets)."""
    w = _Counted()
    t0 = fit_time(start)
    _file_id(w, 4, start, product=4024, serial=serial)
    _event(w, t0, 0)
    t, cut_at = t0, 0
    for index, (cats, subs, reps, kg, work, rest) in enumerate(STRENGTH_SETS):
        if index == 3:
            cut_at = len(w.body) + 14 + 3
        for ts in range(t, t + round(work) + round(rest or 0), 5):
            w.message(1, 20, [(253, UINT32, ts), (3, UINT8, _hr(ts - t0, 105, 20))])
        w.message(7, 225, [(254, UINT32, t + round(work)), (0, UINT32, round(work * 1000)),
                           (3, UINT16, reps), (4, UINT16, None if kg is None else round(kg * 16)),
                           (5, UINT8, 1), (6, UINT32, t), (7, UINT16, cats),
                           (8, UINT16, subs), (9, UINT16, 0), (10, UINT16, index)])
        t += round(work) + round(rest or 0)
    _event(w, t, 4)
    _session(w, t0, t, 10, 20, timer=t - t0, distance=None, avg_hr=108, max_hr=131)
    _activity(w, t, t - t0)
    return w.finish(), cut_at


def rr_intervals(seed: int = 13, n: int = 330) -> list[float]:
    """A resting R-R series (s): 60 bpm or so, with breathing (sinus) arrhythmia."""
    rng = random.Random(seed)
    return [round(0.95 + 0.05 * math.sin(i / 2.4) + rng.uniform(-0.015, 0.015), 3)
            for i in range(n)]


def rmssd(rr: list[float]) -> float:
    diffs = [(b - a) * 1000 for a, b in itertools.pairwise(rr)]
    return math.sqrt(sum(d * d for d in diffs) / len(diffs))


@cache
def hrv() -> Fixture:
    start = START + timedelta(days=3, hours=-0.5)
    w, t0 = _recording(start, SERIAL + 3)
    _event(w, t0, 0)
    rr = rr_intervals()
    for i in range(0, len(rr), 5):
        chunk = tuple(round(x * 1000) for x in rr[i:i + 5])
        w.message(2, 78, [(0, UINT16, chunk + (None,) * (5 - len(chunk)))])
    elapsed = round(sum(rr))
    for s in range(0, elapsed, 5):
        w.message(1, 20, [(253, UINT32, t0 + s), (3, UINT8, 60 + s % 3)])
    _summary(w, t0, t0 + elapsed, 10, 0, distance=None, avg_hr=61, max_hr=64)
    return _valid("hrv", w, "activity", "training", start, ("hrv arrays", "padded arrays"))


@cache
def multisport() -> Fixture:
    """A triathlon: swim, bike and run, one session message per leg."""
    start = START + timedelta(days=5, hours=1)
    w, t0 = _recording(start, SERIAL + 4)
    _event(w, t0, 0)
    t = t0
    for index, (sport, sub, n, step, speed) in enumerate(
            [(5, 18, 80, 15, 1.1), (2, 7, 120, 30, 9.0), (1, 0, 100, 15, 3.2)]):
        leg_start, dist = t, 0.0
        for i in range(n):
            w.message(1, 20, [(253, UINT32, t), (3, UINT8, _hr(i, 140 + 5 * index, 8)),
                              (5, UINT32, round(dist * 100))])
            dist += speed * step
            t += step
        end = t - step
        _lap(w, index, leg_start, end, distance=dist, avg_hr=140 + 5 * index,
             max_hr=155 + 5 * index, sport=sport)
        _session(w, leg_start, end, sport, sub, timer=end - leg_start, distance=dist,
                 avg_hr=140 + 5 * index, max_hr=155 + 5 * index, index=index, first_lap=index)
        t += 120  # transition
    _event(w, t, 4)
    _activity(w, t, t - t0, sessions=3)
    return _valid("multisport", w, "activity", "swimming+cycling+running", start,
                  ("multisport",))


#: Stryd's developer fields: (number, name, units, base type, native message)
STRYD_FIELDS = [(0, "Power", "Watts", UINT16, 20), (1, "Form Power", "Watts", UINT16, 20),
                (2, "Leg Spring Stiffness", "KN/m", FLOAT32, 20), (3, "CP", "Watts", UINT16, 18)]


@cache
def stryd() -> Fixture:
    """A Forerunner run with a Stryd pod: power as developer fields, CP on the session; two
    laps, 100 records each, without power."""
    start = START + timedelta(days=6, hours=2)
    w, t0 = _recording(start, SERIAL + 5)
    n, step = 200, 5
    app = bytes(range(0xA0, 0xB0))
    w.message(1, 207, [(1, BYTE, Raw(app)), (2, UINT16, STRYD_DEV), (3, UINT8, 0),
                       (4, UINT32, 114)])
    for num, name, units, base, native in STRYD_FIELDS:
        w.message(2, 206, [(0, UINT8, 0), (1, UINT8, num), (2, UINT8, base.code),
                           (3, STRING, Str(name, 64)), (8, STRING, Str(units, 16)),
                           (14, UINT16, native)])
    _event(w, t0, 0)
    dist = 0.0
    for i in range(n):
        power = 265 + round(20 * math.sin(i / 15))
        w.message(3, 20, [(253, UINT32, t0 + i * step), (3, UINT8, _hr(i, 150, 9)),
                          (5, UINT32, round(dist * 100))],
                  [(0, UINT16, 0, power), (1, UINT16, 0, round(power * 0.27)),
                   (2, FLOAT32, 0, 9.5 + (i % 10) / 20)])
        dist += 3.4 * step
    half = n // 2 * step  # two laps without power: it is only in the records' Stryd field
    _lap(w, 0, t0, t0 + half - step, distance=dist / 2, avg_hr=150, max_hr=160)
    _lap(w, 1, t0 + half, t0 + (n - 1) * step, distance=dist / 2, avg_hr=150, max_hr=163)
    _summary(w, t0, t0 + (n - 1) * step, 1, 0, distance=dist, avg_hr=150, max_hr=163,
             laps=2, dev=((3, UINT16, 0, 290),))
    return _valid("stryd", w, "activity", "running", start, ("developer fields",))


@cache
def chained() -> Fixture:
    """A short walk, then a second FIT file (a device file) chained after it."""
    start = START + timedelta(days=4, hours=9)
    first, t0 = _recording(start, SERIAL + 6)
    for i in range(60):
        first.message(1, 20, [(253, UINT32, t0 + 10 * i), (3, UINT8, _hr(i, 95, 6))])
    end = t0 + 590
    _session(first, t0, end, 11, 0, timer=590, distance=None, avg_hr=96, max_hr=102)
    _activity(first, end, 590)
    second = _Counted()
    _file_id(second, 1, start, product=4315, serial=SERIAL + 6)
    second.message(1, 23, [(253, UINT32, end), (0, UINT8, 1), (2, UINT16, GARMIN),
                           (27, STRING, "HRM-Pro")])
    return Fixture("chained", first.finish() + second.finish(), "valid", "activity", "walking",
                   start, _named(first.counts + second.counts), ("chained files",))


# --- other file types -------------------------------------------------------------------------


@cache
def weight() -> Fixture:
    w = _Counted()
    day = START + timedelta(days=1, hours=-0.25)
    _file_id(w, 9, day, product=2429, serial=SERIAL + 7)
    for k, (kg, fat) in enumerate([(75.8, 22.3), (76.1, 21.9)]):
        w.message(1, 30, [(253, UINT32, fit_time(day + timedelta(days=k))),
                          (0, UINT16, round(kg * 100)), (1, UINT16, round(fat * 100)),
                          (2, UINT16, 5510), (4, UINT16, 320), (5, UINT16, None)])
    return _valid("weight", w, "weight", "-", None, ("invalid sentinels",))


@cache
def weight_multi() -> Fixture:
    """A family scale: user 0 a man (81.4 kg), user 1 a woman (58.2 kg)."""
    w = _Counted()
    day = START + timedelta(days=2, hours=-0.5)
    _file_id(w, 9, day, product=2429, serial=SERIAL + 8)
    for index, gender in ((0, 1), (1, 0)):
        w.message(1, 3, [(254, UINT16, index), (1, ENUM, gender), (2, UINT8, 45 + index)])
    for k, (user, kg) in enumerate([(0, 81.4), (1, 58.2), (0, 81.0), (1, 58.5)]):
        w.message(2, 30, [(253, UINT32, fit_time(day + timedelta(hours=k))),
                          (0, UINT16, round(kg * 100)), (12, UINT16, user)])
    return _valid("weight_multi", w, "weight", "-", None, ("multi-user",))


#: the workout's steps: (name, duration type, value, target type, target, intensity)
WORKOUT_STEPS = [
    ("Warm up", 0, 600_000, 2, 0, 2),
    ("Threshold", 0, 300_000, 1, 4, 0),
    ("Float", 0, 120_000, 1, 2, 4),
    ("Repeat", 6, 1, 2, 4, 0),  # back to step 1, 4 times in all
    ("Cool down", 5, None, 2, 0, 3),
]


@cache
def workout() -> Fixture:
    w = _Counted()
    created = START - timedelta(days=2)
    _file_id(w, 5, created, product=65534, serial=SERIAL + 9, manufacturer=255)
    w.message(1, 26, [(8, STRING, Str("Threshold 4x5", 16)), (4, ENUM, 1),
                      (6, UINT16, len(WORKOUT_STEPS))])
    for index, (name, dtype, value, ttype, target, intensity) in enumerate(WORKOUT_STEPS):
        w.message(2, 27, [(254, UINT16, index), (0, STRING, Str(name, 16)), (1, ENUM, dtype),
                          (2, UINT32, value), (3, ENUM, ttype), (4, UINT32, target),
                          (7, ENUM, intensity)])
    return _valid("workout", w, "workout", "-", created, ("NUL-padded strings",))


@cache
def monitoring() -> Fixture:
    w = _Counted()
    day = datetime(2026, 5, 5, tzinfo=UTC)
    t0 = fit_time(day)
    _file_id(w, 32, day, product=4315, serial=SERIAL + 10)
    w.message(1, 103, [(253, UINT32, t0), (0, UINT32, t0 + 7200)])
    w.message(2, 55, [(253, UINT32, t0), (3, UINT32, 0), (1, UINT16, 0)])
    for i in range(1, 97):  # every 15 min: timestamp_16, HR and type/intensity in one byte
        w.message(3, 55, [(26, UINT16, (t0 + 900 * i) & 0xFFFF), (27, UINT8, 52 + i % 30),
                          (24, BYTE, (6 if i % 8 else 8) | (i % 4) << 5)])
    w.message(4, 211, [(253, UINT32, t0 + 86_000), (0, UINT8, 52), (1, UINT8, 53)])
    return _valid("monitoring", w, "monitoring_b", "-", None,
                  ("component fields", "timestamp_16"))


# --- damaged files ----------------------------------------------------------------------------


@cache
def truncated() -> Fixture:
    """The run cut inside its last lap message: no session, no activity, no CRC."""
    data = partial_activity(START + timedelta(days=7), serial=SERIAL + 11)
    return Fixture("truncated", data, "truncated", "activity", "running",
                   START + timedelta(days=7), quirks=("cut inside a record",))


@cache
def zero_size() -> Fixture:
    """An unfinished recording: the header says 0 bytes of data, no CRC, no summary."""
    w = FitWriter()
    start = START + timedelta(days=8)
    data, _, summary_at = _run_file(start, serial=SERIAL + 12)
    w.raw(data[14:summary_at])
    return Fixture("zero_size", w.finish(data_size=0, file_crc=False), "zero_size", "activity",
                   "running", start, quirks=("data size 0", "no CRC"))


@cache
def zero_size_ride() -> Fixture:
    """An unfinished ride with no sport message: data size 0, no CRC, the records' own
    ``activity_type`` (cycling) the only word on its sport."""
    w = FitWriter()
    start = START + timedelta(days=8, hours=7)
    t0 = fit_time(start)
    _file_id(w, 4, start, product=3843, serial=SERIAL + 15)
    _event(w, t0, 0)
    for i in range(120):
        w.message(1, 20, [(253, UINT32, t0 + 10 * i), (3, UINT8, _hr(i, 135, 12)),
                          (5, UINT32, i * 8000), (42, ENUM, 2)])
    return Fixture("zero_size_ride", w.finish(data_size=0, file_crc=False), "zero_size",
                   "activity", "cycling", start, quirks=("data size 0", "no CRC",
                                                         "no sport message"))


@cache
def corrupt() -> Fixture:
    data = bytearray(_run_file(START + timedelta(days=9), serial=SERIAL + 13)[0])
    for at in (len(data) // 2, len(data) // 2 + 301):
        data[at] ^= 0x10
    return Fixture("corrupt", bytes(data), "corrupt", "activity", "running",
                   START + timedelta(days=9), quirks=("CRC mismatch",))


BUILDERS: list[Callable[[], Fixture]] = [
    run, ride, strength, hrv, multisport, stryd, chained, weight, weight_multi, workout,
    monitoring, truncated, zero_size, zero_size_ride, corrupt]


def fixtures() -> list[Fixture]:
    return [build() for build in BUILDERS]


def valid_fixtures() -> list[Fixture]:
    return [f for f in fixtures() if f.valid]


def damaged_fixtures() -> list[Fixture]:
    return [f for f in fixtures() if not f.valid]


def by_name(name: str) -> Fixture:
    return next(f for f in fixtures() if f.name == name)


def write_all(folder: Path, names: list[str] | None = None) -> list[Path]:
    """The fixtures (all, or those named) as files in ``folder``."""
    return [f.write(folder) for f in fixtures() if names is None or f.name in names]


def reexport(fixture: Fixture) -> bytes:
    """The same activity in other bytes: its records re-wrapped with a 12-byte header, as a
    second tool exporting the file would write it."""
    w = FitWriter(protocol=0x10, profile=2093)
    w.raw(fixture.data[fixture.data[0]:-2])
    return w.finish(header_size=12)
