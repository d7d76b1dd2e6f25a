"""Full rebuild of every view over a large generated history, beside the raw read rate.

    python -m bench.projections [--events N] [--rounds R] [--store-dir DIR] [--fresh] [--jobs J]

1. **History** (generated once, kept in ``--store-dir``, default
   ``/tmp/trainledger-bench-projections``): athletes with two years of weekly plans, four
   sessions a week (12 sets and an end each), daily resting HR and HRV, goals; every event
   recorded as if on its day, through the domain model, saved in large batches.  About 71
   events per athlete-week; enough athletes to reach ``--events`` (default 1,000,000).
2. **Raw read**: the notification log read in chunks of 5,000 and mapped to domain events
   (``projections.replay.notifications``), nothing else: the floor any rebuild pays.
3. **Rebuild**: ``projections.replay.replay`` of every view (the read model) into a fresh
   scratch SQLite database, as ``trainledger replay`` does, without the content hashes the
   CLI then prints (a read of the rebuilt tables, not part of rebuilding): in one process,
   and with the athletes split between ``--jobs`` processes (``projections.parallel_replay``,
   the CLI's default).

Rounds alternate raw and rebuild; reported: events/s of each (median over rounds, with the
range) and rebuild / raw (target >= 50%), and the CPU time per event (this process and its
rebuild workers), which other processes on a shared machine disturb less than the wall time.
``--only raw|rebuild`` makes one run of either (a 1-process rebuild), e.g. to count its
instructions with ``valgrind --tool=callgrind``; ``--only none`` opens the store and stops
(the start-up's count, to subtract).
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from projections.parallel_replay import Parallel
from projections.registry import all_views
from projections.replay import notifications, replay
from services.application import TrainingLog
from services.cli_replay import in_parts, scratch_tables
from services.config import Settings
from services.domain.athlete import Athlete
from services.domain.base import Context, Source
from services.domain.goal import Goal
from services.domain.observation import Observation
from services.domain.plan import WeeklyPlan
from services.domain.session import TrainingSession
from services.runtime import open_runtime

WEEKS = 104
EVENTS_PER_WEEK = 71
LIFTS = ("squat.back_squats", "bench_press.barbell_bench_press", "deadlift.barbell_deadlift",
         "row.bent_over_row_with_barbell")


def ctx(at: datetime) -> Context:
    return Context(Source("system", principal_id="bench"), recorded_at=at)


def athlete_history(i: int, first_monday: date, rng: random.Random) -> list[Any]:
    """One athlete's aggregates for WEEKS weeks, with their pending events."""
    start = datetime.combine(first_monday, datetime.min.time(), UTC)
    athlete = Athlete.register(ctx(start - timedelta(days=1)), {
        "name": f"Bench {i}", "sex": "male" if i % 2 else "female", "max_hr": 190,
        "resting_hr": 52})
    aid = str(athlete.id)
    made: list[Any] = [athlete]
    goal = Goal.set(ctx(start - timedelta(hours=20)), aid, "Squat 150", {
        "kind": "e1rm", "exercise_id": LIFTS[0]}, "increase", 150.0, "kg",
        first_monday + timedelta(weeks=WEEKS), 100.0)
    made.append(goal)
    for week in range(WEEKS):
        monday = first_monday + timedelta(weeks=week)
        at = datetime.combine(monday, datetime.min.time(), UTC)
        plan = WeeklyPlan.plan(ctx(at - timedelta(hours=5)), aid, monday, [
            {"role": "training", "objective_id": str(goal.id)}, {"role": "training"},
            {"role": "training"}, {"role": "volume"}])
        made.append(plan)
        for n, slot in enumerate(plan.sessions):
            began = at + timedelta(days=n * 2 - (n == 3), hours=18)
            session = TrainingSession.start(
                ctx(began), aid, began, "UTC", planned_role=plan.sessions[slot]["role"],
                objective_id=plan.sessions[slot]["objective_id"], planned_session_id=slot)
            load = 60.0 + week * 0.4 + 10 * n
            for k in range(12):
                when = began + timedelta(minutes=5 + 4 * k)
                session.log_set(ctx(when), f"s{k}", LIFTS[k % 4], 5, round(load, 1),
                                rpe=7.5 + rng.choice((0.0, 0.5)), performed_at=when)
            ended = began + timedelta(minutes=60)
            session.end(ctx(ended), ended, 7.0 + rng.choice((0.0, 0.5, 1.0)))
            made.append(session)
        for d in range(7):
            morning = at + timedelta(days=d, hours=7)
            made.append(Observation.record(ctx(morning), aid, "resting_hr",
                                           round(52 + rng.gauss(0, 1.5)), "bpm", morning))
            made.append(Observation.record(ctx(morning), aid, "hrv_rmssd",
                                           round(60 + rng.gauss(0, 6), 1), "ms", morning))
    return made


def generate(store: Path, events: int) -> int:
    athletes = max(1, round(events / (WEEKS * EVENTS_PER_WEEK)))
    rt = open_runtime(Settings(data_dir=store))
    rng = random.Random(7)
    first_monday = date(2024, 1, 1)
    began = time.perf_counter()
    try:
        for i in range(athletes):
            rt.app.save(*athlete_history(i, first_monday, rng))
            head = int(rt.app.recorder.max_notification_id() or 0)
            print(f"\r  generated {i + 1}/{athletes} athletes, {head:,} events "
                  f"({time.perf_counter() - began:.0f} s)", end="", flush=True)
        print()
        return int(rt.app.recorder.max_notification_id() or 0)
    finally:
        rt.close()


def raw_read(app: TrainingLog) -> tuple[int, float]:
    began = time.perf_counter()
    count = sum(len(chunk) for chunk in notifications(app))
    return count, time.perf_counter() - began


def rebuild(app: TrainingLog, parallel: Parallel | None = None) -> tuple[int, float]:
    with tempfile.TemporaryDirectory(prefix="tl-bench-replay-") as tmp:
        scratch, target = scratch_tables(Path(tmp))
        try:
            began = time.perf_counter()
            results = replay(app, target, list(all_views().values()), hashes=False,
                             parallel=parallel)
            return results[0].events, time.perf_counter() - began
        finally:
            scratch.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--store-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "trainledger-bench-projections")
    parser.add_argument("--fresh", action="store_true", help="regenerate the history")
    parser.add_argument("--jobs", type=int, help="rebuild processes (default: one per core)")
    parser.add_argument("--only", choices=("raw", "rebuild", "none"),
                        help="one run, once, no summary: e.g. under valgrind --tool=callgrind "
                             "(instruction counts, deterministic on a shared machine)")
    args = parser.parse_args()
    store = args.store_dir / f"{args.events}"
    if args.fresh and store.exists():
        shutil.rmtree(store)
    if not (store / "trainledger.sqlite3").exists():
        print(f"generating ~{args.events:,} events into {store}")
        generate(store, args.events)
    settings = Settings(data_dir=store)
    rt = open_runtime(settings)
    parallel = in_parts(settings, args.jobs)
    runs: dict[str, tuple[Any, list[float], list[float]]] = {
        "raw read": (raw_read, [], []),
        "rebuild, 1 process": (rebuild, [], []),
        f"rebuild, {parallel.parts} processes": (lambda app: rebuild(app, parallel), [], []),
    }
    if args.only:
        try:
            if args.only != "none":
                count, seconds = (raw_read if args.only == "raw" else rebuild)(rt.app)
                print(f"{args.only}: {count:,} events in {seconds:.1f} s")
        finally:
            rt.close()
        return
    try:
        for r in range(args.rounds):
            for name, (fn, out, cpu) in runs.items():
                cpu_before = cpu_seconds()
                count, seconds = fn(rt.app)
                out.append(count / seconds)
                cpu.append(1e6 * (cpu_seconds() - cpu_before) / count)
                print(f"round {r + 1}: {name:22s} {count:,} events in {seconds:.1f} s = "
                      f"{count / seconds:,.0f} events/s, CPU {cpu[-1]:.1f} µs/event",
                      flush=True)
    finally:
        rt.close()
    raw = statistics.median(runs["raw read"][1])
    raw_cpu = statistics.median(runs["raw read"][2])
    print()
    for name, (_, rates, cpu) in runs.items():
        med, cpu_med = statistics.median(rates), statistics.median(cpu)
        print(f"{name:22s}: {med:,.0f} events/s (range {min(rates):,.0f}-{max(rates):,.0f}), "
              f"{100 * med / raw:.0f}% of raw (target for a rebuild >= 50%); CPU "
              f"{cpu_med:.1f} µs/event, {cpu_med / raw_cpu:.2f}× raw's")


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (rebuild workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
