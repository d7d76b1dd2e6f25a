"""The read model every analytic view is served from, kept current event by event.

Fed like any view (notification log or Kafka consumer group; :mod:`projections.base`), in
two steps:

1. **apply** (in the feed's transaction): the event is applied to the stored state of the
   aggregate it belongs to (:mod:`projections.states`); the rows that depend on that
   aggregate alone are rewritten (a session's working sets, an observation and its day's
   mean), and the athlete is marked *dirty* from the earliest moment the event can change:
   sessions from the session's start, the load series from its day, an exercise's records
   from the set's place in time, the weekly execution rows from the week.  A back-dated
   session, a profile change effective from a date or a correction marks from there.
2. **settle** (per athlete, before a read of that athlete and whenever the feed has caught
   up): each dirty series is recomputed from its mark forward by the step functions of
   :mod:`projections.derive`, resumed from the stored state just before the mark.  A set
   logged today costs its session and that exercise's newest rows; an old FIT file costs
   the days after it.  Marks of a batch merge, so a whole archive settles once.

Tables (``tl_rm_*``, every row keyed by its athlete, so erasure is one delete per table):

| table | one row per |
|---|---|
| ``states`` | aggregate: its JSON state, kind, athlete, sort key (start, week, time) |
| ``sessions`` | session: load, classification and block (``SessionRow``) |
| ``sets`` | working set: exercise, order in time, local day, e1RM |
| ``days`` | day of the load series: load, CTL/ATL/TSB, EWMAs, ACWR, monotony, strain |
| ``exercise_days`` | exercise and day: best e1RM, working sets so far |
| ``marks`` | strength best changed by a set (the bar, then each record) |
| ``exercises`` | exercise: bests after its latest set (so a new set needs no history) |
| ``observations`` | observation: metric, local day, value |
| ``obs_days`` | metric and day: the day's mean |
| ``weeks`` | planned week: planned vs done, as of its end |
| ``dirty`` | series of an athlete to recompute, and from where |
| ``chunks`` | month of a long answer series: its rows as ready JSON |
| ``layout`` | the layout of these tables (another one rebuilds them) |

Replay (``rebuild``) writes the states from the folded aggregates and settles every athlete
from the start: the same code as the live path, so both give the same rows.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from projections import chunks
from projections.base import OFFSETS, TRACKING, VERSIONS, View, create_tracking
from projections.chunks import CHUNKS, Source
from projections.derive import (
    USUAL_SESSIONS,
    WINDOW,
    Performed,
    daily_loads,
    fatigue_days,
    sequence_sessions,
    strength_marks,
    utc_key,
    week_row,
    working_sets,
)
from projections.execution import executed_row
from projections.facts import FatigueDay, SessionRow, value_row
from projections.fatigue import day_row
from projections.load import load_day
from projections.observations import observation_day, observation_value
from projections.sessions import session_load
from projections.states import decode_state, encode_state
from projections.strength import e1rm_row, record_row
from services.domain.athlete import Athlete
from services.domain.goal import Goal
from services.domain.observation import Observation
from services.domain.plan import WeeklyPlan
from services.domain.session import TrainingSession
from services.domain.weeks import week_start
from services.tables import Reader, ServiceTables, Tx

if TYPE_CHECKING:
    from projections.replay import Folded

STATES = "tl_rm_states"
SESSIONS = "tl_rm_sessions"
SETS = "tl_rm_sets"
DAYS = "tl_rm_days"
E1RM_DAYS = "tl_rm_exercise_days"
MARKS = "tl_rm_marks"
EXERCISES = "tl_rm_exercises"
OBSERVATIONS = "tl_rm_observations"
OBS_DAYS = "tl_rm_obs_days"
WEEKS = "tl_rm_weeks"
DIRTY = "tl_rm_dirty"

#: the long series of the answers, chunked by month (:mod:`projections.chunks`)
SERIES = {
    "fatigue": Source(DAYS, "fatigue_out", "day", "day"),
    "load_days": Source(DAYS, "load_out", "day", "day"),
    "sessions": Source(SESSIONS, "load_out", "day", "day, started_at, session_id"),
    "executed": Source(SESSIONS, "executed_out", "day", "day, started_at, session_id"),
    "records": Source(MARKS, "record_out", "day", "day, set_order, seq", "previous IS NOT NULL"),
    "e1rm": Source(E1RM_DAYS, "out", "day", "day", "out IS NOT NULL", key="exercise_id"),
    "e1rm_goal": Source(E1RM_DAYS, "value_out", "day", "day", "out IS NOT NULL",
                        key="exercise_id"),
    "weeks": Source(WEEKS, "row_json", "week_start", "week_start"),
    "obs_goal": Source(OBS_DAYS, "value_out", "day", "day", key="metric"),
}

KINDS: dict[type[Any], str] = {Athlete: "athlete", TrainingSession: "session",
                               WeeklyPlan: "plan", Goal: "goal", Observation: "observation"}
CLASSES = {kind: cls for cls, kind in KINDS.items()}
BEGINNING = ""  # a dirty mark before every key
#: the layout of the tables below: a change of it rebuilds the read model from the log
LAYOUT = "2026-12-03.4"  # weeks list their prescribed slots; sets' JSON slimmed; years' chunks
LAYOUT_TABLE = "tl_rm_layout"

DDL = {
    STATES: "entity_id TEXT PRIMARY KEY, kind TEXT NOT NULL, athlete_id TEXT NOT NULL, "
            "sort_key TEXT NOT NULL, state TEXT NOT NULL",
    SESSIONS: "session_id TEXT PRIMARY KEY, athlete_id TEXT NOT NULL, started_at TEXT NOT NULL, "
              "day TEXT NOT NULL, objective_id TEXT, planned_role TEXT NOT NULL, "
              "volume_load_kg DOUBLE PRECISION NOT NULL, row_json TEXT NOT NULL, "
              "load_out TEXT NOT NULL, executed_out TEXT NOT NULL",
    SETS: "session_id TEXT NOT NULL, set_id TEXT NOT NULL, athlete_id TEXT NOT NULL, "
          "exercise_id TEXT NOT NULL, set_order TEXT NOT NULL, day TEXT NOT NULL, "
          "set_json TEXT NOT NULL, PRIMARY KEY (session_id, set_id)",
    DAYS: "athlete_id TEXT NOT NULL, day TEXT NOT NULL, idx INTEGER NOT NULL, "
          "load DOUBLE PRECISION NOT NULL, ctl DOUBLE PRECISION NOT NULL, "
          "atl DOUBLE PRECISION NOT NULL, tsb DOUBLE PRECISION NOT NULL, "
          "ewma_acute DOUBLE PRECISION NOT NULL, ewma_chronic DOUBLE PRECISION NOT NULL, "
          "acwr DOUBLE PRECISION, monotony DOUBLE PRECISION, strain DOUBLE PRECISION, "
          "fatigue_out TEXT NOT NULL, load_out TEXT NOT NULL, PRIMARY KEY (athlete_id, day)",
    E1RM_DAYS: "athlete_id TEXT NOT NULL, exercise_id TEXT NOT NULL, day TEXT NOT NULL, "
               "e1rm DOUBLE PRECISION, sets_to_date INTEGER NOT NULL, out TEXT, value_out TEXT, "
               "PRIMARY KEY (athlete_id, exercise_id, day)",
    MARKS: "athlete_id TEXT NOT NULL, exercise_id TEXT NOT NULL, set_order TEXT NOT NULL, "
           "seq INTEGER NOT NULL, day TEXT NOT NULL, kind TEXT NOT NULL, "
           "at_kg DOUBLE PRECISION NOT NULL, value DOUBLE PRECISION NOT NULL, "
           "previous DOUBLE PRECISION, ref TEXT NOT NULL, brzycki DOUBLE PRECISION, "
           "record_out TEXT, PRIMARY KEY (athlete_id, exercise_id, set_order, seq)",
    EXERCISES: "athlete_id TEXT NOT NULL, exercise_id TEXT NOT NULL, last_order TEXT NOT NULL, "
               "bests TEXT NOT NULL, PRIMARY KEY (athlete_id, exercise_id)",
    OBSERVATIONS: "observation_id TEXT PRIMARY KEY, athlete_id TEXT NOT NULL, "
                  "metric TEXT NOT NULL, day TEXT NOT NULL, value DOUBLE PRECISION NOT NULL",
    OBS_DAYS: "athlete_id TEXT NOT NULL, metric TEXT NOT NULL, day TEXT NOT NULL, "
              "value DOUBLE PRECISION NOT NULL, value_out TEXT NOT NULL, "
              "PRIMARY KEY (athlete_id, metric, day)",
    WEEKS: "athlete_id TEXT NOT NULL, week_start TEXT NOT NULL, converted INTEGER NOT NULL, "
           "row_json TEXT NOT NULL, PRIMARY KEY (athlete_id, week_start)",
    DIRTY: "athlete_id TEXT NOT NULL, part TEXT NOT NULL, since TEXT NOT NULL, "
           "PRIMARY KEY (athlete_id, part)",
    CHUNKS: chunks.DDL,
}
INDEXES = (
    (STATES, "athlete_id, kind, sort_key"),
    (SESSIONS, "athlete_id, started_at"),
    (SESSIONS, "athlete_id, objective_id, started_at"),
    (SESSIONS, "athlete_id, day"),
    (SETS, "athlete_id, exercise_id, set_order"),
    (SETS, "athlete_id, exercise_id, day"),
    (MARKS, "athlete_id, day"),
    (MARKS, "athlete_id, exercise_id, kind, set_order"),
    (OBSERVATIONS, "athlete_id, metric, day"),
    (WEEKS, "athlete_id, converted, week_start"),
)


def _sort_key(kind: str, aggregate: Any) -> str:
    if kind == "session":
        return utc_key(aggregate.started_at)
    if kind == "plan":
        return str(aggregate.week_start.isoformat())
    if kind == "observation":
        return utc_key(aggregate.observed_at)
    return utc_key(aggregate.created_on)


def _event_classes() -> tuple[type[Any], ...]:
    out: list[type[Any]] = []
    for aggregate in KINDS:
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, aggregate.Event):
                out.append(value)
    return tuple(out)


def _kind_of(event: Any) -> str | None:
    for cls, kind in KINDS.items():
        if isinstance(event, cls.Event):
            return kind
    return None


class ReadModel(View):
    name = "training"
    reads_unknown_types = True
    tables = tuple(DDL)

    def __init__(self) -> None:
        self.handles = _event_classes()
        self._athletes: dict[str, Athlete] = {}  # within one batch

    def create(self, db: ServiceTables) -> None:
        """Create the tables; tables of another layout (``LAYOUT``) are dropped first, with
        the view's position, so that the feed builds the read model again from the log."""
        create_tracking(db)
        db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(LAYOUT_TABLE)} (layout TEXT NOT NULL)")
        found = [r["layout"] for r in db.query(f"SELECT layout FROM {db.name(LAYOUT_TABLE)}")]
        if found != [LAYOUT]:
            with db.transaction() as tx:
                for table in DDL:
                    tx.execute(f"DROP TABLE IF EXISTS {tx.name(table)}")
                for bookkeeping in (TRACKING, OFFSETS, VERSIONS):
                    tx.execute(f"DELETE FROM {tx.name(bookkeeping)} WHERE view = %s",
                               (self.name,))
                tx.execute(f"DELETE FROM {tx.name(LAYOUT_TABLE)}")
                tx.execute(f"INSERT INTO {tx.name(LAYOUT_TABLE)} (layout) VALUES (%s)",
                           (LAYOUT,))
        for table, columns in DDL.items():
            db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(table)} ({columns})")
        for i, (table, columns) in enumerate(INDEXES):
            db.execute(f"CREATE INDEX IF NOT EXISTS {table}_{i} ON {db.name(table)} ({columns})")

    def forget_athlete(self, tx: Tx, athlete_id: str) -> dict[str, int]:
        return {table: tx.execute(f"DELETE FROM {tx.name(table)} WHERE athlete_id = %s",
                                  (athlete_id,)) for table in self.tables}

    # ------------------------------------------------------------ apply

    def prepare(self, events: Sequence[Any]) -> None:
        self._athletes = {}

    def apply(self, tx: Tx, event: Any) -> None:
        kind = _kind_of(event)
        if kind is None:
            return
        entity = str(event.originator_id)
        if isinstance(event, Athlete.Registered | TrainingSession.Started | WeeklyPlan.Planned
                      | Goal.Set | Observation.Recorded):
            athlete_id = entity if kind == "athlete" else str(
                event.athlete_id)  # type: ignore[union-attr]
            before = None
            aggregate = event.mutate(None)
        else:
            rows = tx.query(f"SELECT athlete_id, state FROM {tx.name(STATES)} "
                            "WHERE entity_id = %s", (entity,))
            if not rows:
                return  # its creation was never seen (its athlete was erased)
            athlete_id = rows[0]["athlete_id"]
            before = decode_state(CLASSES[kind], rows[0]["state"])
            aggregate = event.mutate(decode_state(CLASSES[kind], rows[0]["state"]))
        save_state(tx, kind, athlete_id, aggregate)
        if kind == "athlete":
            self._athletes[athlete_id] = aggregate
            self._athlete_changed(tx, athlete_id, event, before, aggregate)
        elif kind == "session":
            self._session_changed(tx, athlete_id, event, before, aggregate)
        elif kind == "plan":
            mark_dirty(tx, athlete_id, "weeks", aggregate.week_start.isoformat())
        elif kind == "observation":
            athlete = self._athlete(tx, athlete_id)
            if athlete is not None:
                save_observation(tx, athlete, aggregate)

    def _athlete(self, tx: Tx, athlete_id: str) -> Athlete | None:
        if athlete_id not in self._athletes:
            found = load_athlete(tx, athlete_id)
            if found is None:
                return None
            self._athletes[athlete_id] = found
        return self._athletes[athlete_id]

    def _athlete_changed(self, tx: Tx, athlete_id: str, event: Any, before: Any,
                         after: Athlete) -> None:
        if isinstance(event, Athlete.SettingsChanged):
            for part in ("sessions", "days"):  # settings hold for the whole series
                mark_dirty(tx, athlete_id, part, BEGINNING)
        elif isinstance(event, Athlete.ProfileUpdated):
            since = utc_key(event.occurred_at)
            mark_dirty(tx, athlete_id, "sessions", since)  # loads use the profile of the day
            if "first_day_of_week" in event.changes:
                mark_dirty(tx, athlete_id, "weeks", BEGINNING)
            if "timezone" in event.changes:  # observations after it fall on other days
                for row in tx.query(f"SELECT state FROM {tx.name(STATES)} WHERE athlete_id = %s "
                                    "AND kind = 'observation' AND sort_key >= %s",
                                    (athlete_id, since)):
                    save_observation(tx, after, decode_state(Observation, row["state"]))

    def _session_changed(self, tx: Tx, athlete_id: str, event: Any,
                         before: TrainingSession | None, after: TrainingSession) -> None:
        start = after.started_at if before is None else min(before.started_at, after.started_at)
        mark_dirty(tx, athlete_id, "sessions", utc_key(start))

        def placed(session: TrainingSession | None) -> dict[str, tuple[int, Any]]:
            if session is None or session.discarded:
                return {}
            return {k: (i, s) for i, (k, s) in enumerate(session.sets.items())}

        old, new = placed(before), placed(after)
        changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        if isinstance(event, TrainingSession.Retimed):  # every set's place follows the start
            changed = set(old) | set(new)
        if not changed:
            return  # the session's end, details or link: its sets stand
        gone = working_sets(before, changed) if before is not None else []
        made = working_sets(after, changed) if not after.discarded else []
        session_id = str(after.id)
        marks = ", ".join(["%s"] * len(changed))
        tx.execute(f"DELETE FROM {tx.name(SETS)} WHERE session_id = %s AND set_id IN ({marks})",
                   (session_id, *sorted(changed)))
        save_sets(tx, athlete_id, session_id, made)
        for s in gone + made:
            mark_dirty(tx, athlete_id, f"exercise:{s['exercise_id']}", s["order"])

    def finish(self, tx: Tx) -> None:
        self._athletes = {}

    # ------------------------------------------------------------ settle

    def idle(self, db: ServiceTables) -> None:
        """The feed has caught up: settle every dirty athlete."""
        for row in db.query(f"SELECT DISTINCT athlete_id FROM {db.name(DIRTY)}"):
            self.settle(db, row["athlete_id"])

    def pending(self, db: ServiceTables) -> int:
        """Athletes with series still to settle."""
        rows = db.query(f"SELECT COUNT(DISTINCT athlete_id) AS n FROM {db.name(DIRTY)}")
        return int(rows[0]["n"])

    def settle(self, db: ServiceTables, athlete_id: str) -> None:
        """Recompute the athlete's dirty series (nothing if none is dirty)."""
        if not db.query(f"SELECT 1 AS d FROM {db.name(DIRTY)} WHERE athlete_id = %s",
                        (athlete_id,)):
            return
        with db.transaction() as tx:
            if tx.db.is_postgres:  # one settle of an athlete at a time
                tx.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                           (f"tl_rm:{athlete_id}",))
            settle(tx, athlete_id)

    def rebuild(self, tx: Tx, folded: Folded) -> bool:
        """Every athlete from the aggregates folded in memory: states, sets and observations
        written in bulk, then one settle from the beginning that reads none of them back."""
        for history in folded.histories():
            athlete_id, athlete = history.athlete_id, history.athlete
            aggregates = [("athlete", athlete), *(("plan", p) for p in history.plans),
                          *(("goal", g) for g in history.goals),
                          *(("session", s) for s in history.sessions),
                          *(("observation", o) for o in history.observations)]
            save_states(tx, athlete_id, aggregates)
            loaded = Loaded(athlete, history.sessions, history.plans)
            for session in history.sessions:
                made = working_sets(session)
                save_sets(tx, athlete_id, str(session.id), made)
                for s in made:
                    loaded.sets.setdefault(s["exercise_id"], []).append(s)
            save_observations(tx, athlete, history.observations)
            for part in ("sessions", "days", "weeks"):
                mark_dirty(tx, athlete_id, part, BEGINNING)
            for ex in loaded.sets:
                mark_dirty(tx, athlete_id, f"exercise:{ex}", BEGINNING)
            settle(tx, athlete_id, loaded)
        retired = [(kind, str(folded.owners[entity]), folded.aggregates[entity])
                   for entity, kind in folded.kinds.items()  # discarded and retracted ones
                   if kind in ("session", "observation") and (
                       getattr(folded.aggregates[entity], "discarded", False)
                       or getattr(folded.aggregates[entity], "retracted", False))]
        for kind, athlete_id, aggregate in retired:
            save_state(tx, kind, athlete_id, aggregate)
        return True


# ------------------------------------------------------------------ rows by aggregate


def save_state(tx: Tx, kind: str, athlete_id: str, aggregate: Any) -> None:
    tx.execute(f"INSERT INTO {tx.name(STATES)} (entity_id, kind, athlete_id, sort_key, state) "
               "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (entity_id) DO UPDATE SET "
               "sort_key = excluded.sort_key, state = excluded.state",
               (str(aggregate.id), kind, athlete_id, _sort_key(kind, aggregate),
                encode_state(aggregate)))


def save_states(tx: Tx, athlete_id: str, aggregates: Iterable[tuple[str, Any]]) -> None:
    """Insert the states of new aggregates (a rebuild)."""
    tx.executemany(f"INSERT INTO {tx.name(STATES)} (entity_id, kind, athlete_id, sort_key, "
                   "state) VALUES (%s, %s, %s, %s, %s)",
                   [(str(a.id), kind, athlete_id, _sort_key(kind, a), encode_state(a))
                    for kind, a in aggregates])


def save_observations(tx: Tx, athlete: Athlete, observations: Iterable[Observation]) -> None:
    """Insert the rows of new observations and their days' means (a rebuild)."""
    rows, by_day = [], defaultdict(list)
    athlete_id = str(athlete.id)
    for obs in observations:
        day = observation_day(athlete, obs.observed_at).isoformat()
        value = observation_value(obs.metric, obs.value)
        rows.append((str(obs.id), athlete_id, obs.metric, day, value))
        by_day[(obs.metric, day)].append(value)
    tx.executemany(f"INSERT INTO {tx.name(OBSERVATIONS)} (observation_id, athlete_id, metric, "
                   "day, value) VALUES (%s, %s, %s, %s, %s)", rows)
    means = [(athlete_id, m, d, *_day_mean(d, v)) for (m, d), v in sorted(by_day.items())]
    tx.executemany(f"INSERT INTO {tx.name(OBS_DAYS)} (athlete_id, metric, day, value, "
                   "value_out) VALUES (%s, %s, %s, %s, %s)", means)
    for metric in {m for m, _ in by_day}:
        chunks.rewrite(tx, SERIES["obs_goal"], "obs_goal", athlete_id, BEGINNING, metric,
                       rows=[(r[2], r[4]) for r in means if r[1] == metric])


def _day_mean(day: str, values: list[float]) -> tuple[float, str]:
    """A metric's mean of a day, and its row as a goal lists it."""
    mean = math.fsum(values) / len(values)
    return mean, json.dumps(value_row(date.fromisoformat(day), mean))


def span_query(table: str) -> str:
    """The first and last ``day`` of an athlete's rows: two subqueries, so that each takes
    one step down the (athlete_id, day) index (one ``MIN(day), MAX(day)`` reads every row)."""
    return (f"SELECT (SELECT MIN(day) FROM {table} WHERE athlete_id = %s) AS first, "
            f"(SELECT MAX(day) FROM {table} WHERE athlete_id = %s) AS last")


def load_athlete(tx: Reader, athlete_id: str) -> Athlete | None:
    rows = tx.query(f"SELECT state FROM {tx.name(STATES)} WHERE entity_id = %s", (athlete_id,))
    return decode_state(Athlete, rows[0]["state"]) if rows else None


def mark_dirty(tx: Tx, athlete_id: str, part: str, since: str) -> None:
    tx.execute(f"INSERT INTO {tx.name(DIRTY)} AS d (athlete_id, part, since) "
               "VALUES (%s, %s, %s) ON CONFLICT (athlete_id, part) DO UPDATE SET "
               "since = CASE WHEN excluded.since < d.since THEN excluded.since ELSE d.since END",
               (athlete_id, part, since))


def _set_json(s: dict[str, Any]) -> str:
    """What a working set's columns don't hold (its reps, load, RPE, RIR and e1RM)."""
    return json.dumps({k: s[k] for k in _SET_DETAILS})


_SET_DETAILS = ("e1rm", "load_kg", "reps", "rir", "rpe")


def _stored_set(row: dict[str, Any]) -> dict[str, Any]:
    """A working set as :func:`projections.derive.working_sets` gives it, from its row."""
    s: dict[str, Any] = json.loads(row["set_json"])
    s.update(exercise_id=row["exercise_id"], session_id=row["session_id"],
             set_id=row["set_id"], order=row["set_order"], day=date.fromisoformat(row["day"]))
    return s


def save_sets(tx: Tx, athlete_id: str, session_id: str, sets: Iterable[dict[str, Any]]) -> None:
    """Insert working-set rows (the caller deleted what they replace)."""
    tx.executemany(
        f"INSERT INTO {tx.name(SETS)} (session_id, set_id, athlete_id, exercise_id, set_order, "
        "day, set_json) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [(session_id, s["set_id"], athlete_id, s["exercise_id"], s["order"],
          s["day"].isoformat(), _set_json(s)) for s in sets])


def save_observation(tx: Tx, athlete: Athlete, obs: Observation) -> None:
    """An observation's row, and the mean of its metric on the days it left and joined."""
    oid, athlete_id = str(obs.id), str(athlete.id)
    old = tx.query(f"SELECT day FROM {tx.name(OBSERVATIONS)} WHERE observation_id = %s", (oid,))
    tx.execute(f"DELETE FROM {tx.name(OBSERVATIONS)} WHERE observation_id = %s", (oid,))
    days = {row["day"] for row in old}
    if not obs.retracted:
        day = observation_day(athlete, obs.observed_at).isoformat()
        tx.execute(f"INSERT INTO {tx.name(OBSERVATIONS)} (observation_id, athlete_id, metric, "
                   "day, value) VALUES (%s, %s, %s, %s, %s)",
                   (oid, athlete_id, obs.metric, day, observation_value(obs.metric, obs.value)))
        days.add(day)
    for day in days:
        rows = tx.query(f"SELECT value FROM {tx.name(OBSERVATIONS)} WHERE athlete_id = %s "
                        "AND metric = %s AND day = %s ORDER BY observation_id",
                        (athlete_id, obs.metric, day))
        tx.execute(f"DELETE FROM {tx.name(OBS_DAYS)} WHERE athlete_id = %s AND metric = %s "
                   "AND day = %s", (athlete_id, obs.metric, day))
        if rows:
            tx.execute(f"INSERT INTO {tx.name(OBS_DAYS)} (athlete_id, metric, day, value, "
                       "value_out) VALUES (%s, %s, %s, %s, %s)",
                       (athlete_id, obs.metric, day,
                        *_day_mean(day, [float(r["value"]) for r in rows])))
    if days:  # the goal's listing, rewritten when settling (an archive: once)
        mark_dirty(tx, athlete_id, f"obs:{obs.metric}", min(days))


# ------------------------------------------------------------------ settle


@dataclass
class Loaded:
    """A rebuild: the athlete's aggregates in memory and none of their series stored yet, so
    every series settles from the beginning, from memory, reading nothing back."""

    athlete: Athlete
    sessions: list[TrainingSession]
    plans: list[WeeklyPlan]
    sets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by exercise
    rows: list[SessionRow] = field(default_factory=list)  # filled by the session settle
    records: list[tuple[str, str, int, str]] = field(default_factory=list)  # day, order, seq, out


def settle(tx: Tx, athlete_id: str, loaded: Loaded | None = None) -> None:
    """Recompute every dirty series of the athlete from its mark, in dependency order."""
    marks = {r["part"]: r["since"] for r in tx.query(
        f"SELECT part, since FROM {tx.name(DIRTY)} WHERE athlete_id = %s", (athlete_id,))}
    athlete = loaded.athlete if loaded else load_athlete(tx, athlete_id)
    if marks and athlete is not None:
        if "sessions" in marks:
            first_day = _settle_sessions(tx, athlete, marks["sessions"], loaded)
            if first_day is not None:
                for part, since in (("days", first_day.isoformat()), ("weeks", week_start(
                        first_day, athlete.profile["first_day_of_week"]).isoformat())):
                    marks[part] = min(marks.get(part, since), since)
        records: str | None = None  # the records of every exercise: one series, once
        for part, since in marks.items():
            if part.startswith("obs:"):
                chunks.rewrite(tx, SERIES["obs_goal"], "obs_goal", athlete_id, since,
                               part.split(":", 1)[1])
            if part.startswith("exercise:"):
                changed = _settle_exercise(tx, athlete_id, part.split(":", 1)[1], since, loaded)
                records = changed if records is None else min(records, changed)
        if records is not None:
            chunks.rewrite(tx, SERIES["records"], "records", athlete_id, records, rows=[
                (day, out) for day, _, _, out in sorted(loaded.records)] if loaded else None)
        if "days" in marks:
            _settle_days(tx, athlete, marks["days"], loaded)
        if "weeks" in marks:
            _settle_weeks(tx, athlete, marks["weeks"], loaded)
    tx.execute(f"DELETE FROM {tx.name(DIRTY)} WHERE athlete_id = %s", (athlete_id,))


def _session_columns(athlete_id: str, r: SessionRow) -> tuple[Any, ...]:
    """A session's row of ``tl_rm_sessions``: its JSON state and its two answers' rows."""
    row = r.as_dict()
    return (r.session_id, athlete_id, utc_key(r.started_at), row["day"], r.objective_id,
            r.planned_role, r.volume_load_kg, json.dumps(r.to_json(row), sort_keys=True),
            json.dumps(row), json.dumps(executed_row(r)))


def _settle_sessions(tx: Tx, athlete: Athlete, since: str,
                     loaded: Loaded | None = None) -> date | None:
    """Session rows from ``since`` on; returns the earliest day that changed."""
    athlete_id = str(athlete.id)
    if loaded is not None:
        sessions = loaded.sessions
    else:
        sessions = [decode_state(TrainingSession, r["state"]) for r in tx.query(
            f"SELECT state FROM {tx.name(STATES)} WHERE athlete_id = %s AND kind = 'session' "
            "AND sort_key >= %s", (athlete_id, since))]
    rows = [session_load(athlete, s) for s in sessions if not s.discarded]
    rows.sort(key=lambda r: (r.started_at, r.session_id))
    before, usual, days = None, dict[str, list[float]](), [r.day for r in rows]
    if loaded is None:  # resumed from the rows stored before ``since``
        before_rows = tx.query(f"SELECT row_json FROM {tx.name(SESSIONS)} WHERE athlete_id = %s "
                               "AND started_at < %s ORDER BY started_at DESC, session_id DESC "
                               "LIMIT 1", (athlete_id, since))
        before = SessionRow.from_json(json.loads(before_rows[0]["row_json"])) if before_rows \
            else None
        for objective in {r.objective_id for r in rows if r.objective_id}:
            recent = tx.query(f"SELECT volume_load_kg FROM {tx.name(SESSIONS)} WHERE "
                              "athlete_id = %s AND objective_id = %s AND started_at < %s AND "
                              "volume_load_kg > 0 ORDER BY started_at DESC, session_id DESC "
                              "LIMIT %s", (athlete_id, objective, since, USUAL_SESSIONS))
            usual[objective] = [float(r["volume_load_kg"]) for r in reversed(recent)]
        old_days = tx.query(f"SELECT MIN(day) AS day FROM {tx.name(SESSIONS)} WHERE "
                            "athlete_id = %s AND started_at >= %s", (athlete_id, since))
        if old_days and old_days[0]["day"]:
            days.append(date.fromisoformat(old_days[0]["day"]))
        tx.execute(f"DELETE FROM {tx.name(SESSIONS)} WHERE athlete_id = %s AND "
                   "started_at >= %s", (athlete_id, since))
    else:
        loaded.rows = rows
    sequence_sessions(rows, usual, before)
    stored = [_session_columns(athlete_id, r) for r in rows]
    tx.executemany(
        f"INSERT INTO {tx.name(SESSIONS)} (session_id, athlete_id, started_at, day, objective_id, "
        "planned_role, volume_load_kg, row_json, load_out, executed_out) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", stored)
    changed = min(days, default=None)
    if changed is not None:
        listed = (sorted(stored, key=lambda c: (c[3], c[2], c[0]))  # day, started_at, id
                  if loaded else None)  # a rebuild's rows, in memory; live, they are read
        for series, column in (("sessions", 8), ("executed", 9)):
            chunks.rewrite(tx, SERIES[series], series, athlete_id, changed.isoformat(),
                           rows=None if listed is None else [(c[3], c[column]) for c in listed])
    return changed


def _settle_exercise(tx: Tx, athlete_id: str, exercise_id: str, since: str,
                     loaded: Loaded | None = None) -> str:
    """Marks and daily e1RMs of one exercise from the set at ``since`` on; returns the day
    from which the records series changed (the caller rewrites it once for all)."""
    key = (athlete_id, exercise_id)
    bests: dict[str, float] = {}
    stored = [] if loaded else tx.query(f"SELECT last_order, bests FROM {tx.name(EXERCISES)} "
                                        "WHERE athlete_id = %s AND exercise_id = %s", key)
    if stored and stored[0]["last_order"] < since:
        bests = json.loads(stored[0]["bests"])  # the common case: a set after the latest
    elif since != BEGINNING:
        for row in tx.query(f"SELECT kind, at_kg, value FROM {tx.name(MARKS)} WHERE "
                            "athlete_id = %s AND exercise_id = %s AND set_order < %s "
                            "ORDER BY set_order, seq", (*key, since)):
            bests[f"{row['kind']}@{float(row['at_kg']):g}"] = float(row["value"])
    # the day of ``since`` may hold earlier sets: its e1RM is taken again whole
    first_day = (date.fromisoformat(since[:10]) - timedelta(days=1)).isoformat() \
        if since != BEGINNING else BEGINNING
    if loaded is not None:
        sets = sorted(loaded.sets.get(exercise_id, []), key=lambda s: s["order"])
    else:
        # a set at or after ``since`` falls on ``first_day`` or later (zones are within a day)
        sets = [_stored_set(row) for row in tx.query(
            f"SELECT session_id, set_id, exercise_id, set_order, day, set_json FROM "
            f"{tx.name(SETS)} WHERE athlete_id = %s AND exercise_id = %s AND day >= %s "
            "ORDER BY set_order", (*key, first_day))]
    later = [s for s in sets if s["order"] >= since]
    days = {s["order"]: s["day"].isoformat() for s in later}
    marks = [(*key, m.order, m.seq, days[m.order], m.kind, m.at, m.value, m.previous,
              json.dumps(m.ref), m.brzycki, json.dumps(record_row(m)) if m.previous is not None
              else None) for m in strength_marks(later, bests)]
    if loaded is None:
        tx.execute(f"DELETE FROM {tx.name(MARKS)} WHERE athlete_id = %s AND exercise_id = %s "
                   "AND set_order >= %s", (*key, since))
    else:
        loaded.records.extend((m[4], m[2], m[3], m[11]) for m in marks if m[11] is not None)
    tx.executemany(
        f"INSERT INTO {tx.name(MARKS)} (athlete_id, exercise_id, set_order, seq, day, kind, "
        "at_kg, value, previous, ref, brzycki, record_out) VALUES (%s, %s, %s, %s, %s, %s, "
        "%s, %s, %s, %s, %s, %s)", marks)
    # per day: the best e1RM, and the working sets done so far
    count = 0
    if loaded is None:
        before = tx.query(f"SELECT sets_to_date FROM {tx.name(E1RM_DAYS)} WHERE "
                          "athlete_id = %s AND exercise_id = %s AND day < %s ORDER BY day DESC "
                          "LIMIT 1", (*key, first_day))
        count = int(before[0]["sets_to_date"]) if before else 0
        tx.execute(f"DELETE FROM {tx.name(E1RM_DAYS)} WHERE athlete_id = %s AND "
                   "exercise_id = %s AND day >= %s", (*key, first_day))
    per_day: dict[date, list[Any]] = {}
    for s in sorted(sets, key=lambda s: s["day"]):
        entry = per_day.setdefault(s["day"], [None, 0])
        if s["e1rm"] is not None:
            entry[0] = max(entry[0] or 0.0, s["e1rm"])
        entry[1] += 1
    rows = []
    for when, (best, n) in per_day.items():
        count += n
        rows.append((*key, when.isoformat(), best, count,
                     json.dumps(e1rm_row(when, best)) if best is not None else None,
                     json.dumps(value_row(when, best)) if best is not None else None))
    tx.executemany(f"INSERT INTO {tx.name(E1RM_DAYS)} (athlete_id, exercise_id, day, e1rm, "
                   "sets_to_date, out, value_out) VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
    changed = min([first_day, *days.values()]) if first_day else BEGINNING
    for series, column in (("e1rm", 5), ("e1rm_goal", 6)):
        chunks.rewrite(tx, SERIES[series], series, athlete_id, changed, exercise_id,
                       rows=[(r[2], r[column]) for r in rows] if loaded else None)
    if later:
        tx.execute(f"INSERT INTO {tx.name(EXERCISES)} (athlete_id, exercise_id, last_order, "
                   "bests) VALUES (%s, %s, %s, %s) ON CONFLICT (athlete_id, exercise_id) DO "
                   "UPDATE SET last_order = excluded.last_order, bests = excluded.bests",
                   (*key, later[-1]["order"], json.dumps(bests, sort_keys=True)))
    elif not sets and not tx.query(f"SELECT 1 AS s FROM {tx.name(SETS)} WHERE athlete_id = %s "
                                   "AND exercise_id = %s LIMIT 1", key):
        tx.execute(f"DELETE FROM {tx.name(EXERCISES)} WHERE athlete_id = %s AND "
                   "exercise_id = %s", key)
    else:  # the latest sets were removed: the bests are those before ``since``
        last = tx.query(f"SELECT MAX(set_order) AS o FROM {tx.name(SETS)} WHERE athlete_id = %s "
                        "AND exercise_id = %s", key)[0]["o"]
        tx.execute(f"UPDATE {tx.name(EXERCISES)} SET last_order = %s, bests = %s WHERE "
                   "athlete_id = %s AND exercise_id = %s",
                   (last or BEGINNING, json.dumps(bests, sort_keys=True), *key))
    return changed


def day_from_row(row: dict[str, Any]) -> FatigueDay:
    return FatigueDay(date.fromisoformat(row["day"]), int(row["idx"]), float(row["load"]),
                      float(row["ctl"]), float(row["atl"]), float(row["tsb"]),
                      float(row["ewma_acute"]), float(row["ewma_chronic"]),
                      _float(row["acwr"]), _float(row["monotony"]), _float(row["strain"]))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _settle_days(tx: Tx, athlete: Athlete, since: str, loaded: Loaded | None = None) -> None:
    """The load series from ``since`` to the last session's day."""
    athlete_id = str(athlete.id)
    if loaded is not None:
        if not loaded.rows:
            return  # no session: no series
        first, last = min(r.day for r in loaded.rows), max(r.day for r in loaded.rows)
        start, earlier = first, list[FatigueDay]()
        loads = daily_loads(loaded.rows, first, last)  # in start order, as stored
    else:
        span = tx.query(span_query(tx.name(SESSIONS)), (athlete_id,) * 2)[0]
        if span["first"] is None:
            tx.execute(f"DELETE FROM {tx.name(DAYS)} WHERE athlete_id = %s", (athlete_id,))
            for series in ("fatigue", "load_days"):
                chunks.rewrite(tx, SERIES[series], series, athlete_id, BEGINNING)
            return
        first, last = date.fromisoformat(span["first"]), date.fromisoformat(span["last"])
        start, earlier, loads = _resume_days(tx, athlete_id, since, first, last)
    days = fatigue_days(first, loads, (start - first).days, earlier[-1] if earlier else None,
                        [d.load for d in earlier], athlete.settings)
    if loaded is None:
        tx.execute(f"DELETE FROM {tx.name(DAYS)} WHERE athlete_id = %s AND (day >= %s OR "
                   "day < %s OR day > %s)", (athlete_id, start.isoformat(), first.isoformat(),
                                            last.isoformat()))
    rows: list[tuple[Any, ...]] = [
        (athlete_id, d.day.isoformat(), d.index, d.load, d.ctl, d.atl, d.tsb, d.ewma_acute,
         d.ewma_chronic, d.acwr, d.monotony, d.strain, json.dumps(day_row(d)),
         json.dumps(load_day(d))) for d in days]
    tx.executemany(
        f"INSERT INTO {tx.name(DAYS)} (athlete_id, day, idx, load, ctl, atl, tsb, ewma_acute, "
        "ewma_chronic, acwr, monotony, strain, fatigue_out, load_out) VALUES (%s, %s, %s, %s, "
        "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
    for series, column in (("fatigue", 12), ("load_days", 13)):
        # from the start, all months (it may have moved); days past ``last`` went
        chunks.rewrite(tx, SERIES[series], series, athlete_id,
                       BEGINNING if start == first else min(start, last).isoformat(),
                       rows=[(r[1], r[column]) for r in rows] if loaded else None)


def _resume_days(tx: Tx, athlete_id: str, since: str, first: date, last: date,
                 ) -> tuple[date, list[FatigueDay], list[float]]:
    """Where the stored load series resumes (at ``since``, or earlier if it must), the
    stored days before that it needs, and the loads of the days from there to ``last``."""
    stored_first = tx.query(f"SELECT MIN(day) AS day FROM {tx.name(DAYS)} WHERE "
                            "athlete_id = %s", (athlete_id,))[0]["day"]
    start = first if since == BEGINNING else max(first, date.fromisoformat(since))
    if stored_first != first.isoformat():
        start = first  # the series now starts elsewhere: every day moves
    stored_last = tx.query(f"SELECT MAX(day) AS day FROM {tx.name(DAYS)} WHERE "
                           "athlete_id = %s", (athlete_id,))[0]["day"]
    day_before = (start - timedelta(days=1)).isoformat()
    if start > first and stored_last is not None and stored_last < day_before:
        start = date.fromisoformat(stored_last) + timedelta(days=1)  # rest days between
    earlier = [day_from_row(r) for r in tx.query(
        f"SELECT * FROM {tx.name(DAYS)} WHERE athlete_id = %s AND day < %s AND day >= %s "
        "ORDER BY day", (athlete_id, start.isoformat(),
                         (start - timedelta(days=WINDOW)).isoformat()))] \
        if start > first else []
    loads = [0.0] * ((last - start).days + 1)
    for row in tx.query(f"SELECT row_json FROM {tx.name(SESSIONS)} WHERE athlete_id = %s AND "
                        "day >= %s ORDER BY started_at, session_id",
                        (athlete_id, start.isoformat())):
        r = json.loads(row["row_json"])
        loads[(date.fromisoformat(r["day"]) - start).days] += r["load"]
    return start, earlier, loads


def _settle_weeks(tx: Tx, athlete: Athlete, since: str, loaded: Loaded | None = None) -> None:
    """The execution rows of the planned weeks from ``since`` on, each as of its end."""
    athlete_id = str(athlete.id)
    first_day = athlete.profile["first_day_of_week"]
    if since != BEGINNING:
        since = week_start(date.fromisoformat(since), first_day).isoformat()
    by_week: dict[date, list[SessionRow]] | None = None
    if loaded is not None:
        plans = sorted(loaded.plans, key=lambda p: p.week_start)
        by_week = {}
        for r in loaded.rows:
            by_week.setdefault(r.day, []).append(r)
    else:
        plans = [decode_state(WeeklyPlan, r["state"]) for r in tx.query(
            f"SELECT state FROM {tx.name(STATES)} WHERE athlete_id = %s AND kind = 'plan' "
            "AND sort_key >= %s ORDER BY sort_key", (athlete_id, since))]
        tx.execute(f"DELETE FROM {tx.name(WEEKS)} WHERE athlete_id = %s AND week_start >= %s",
                   (athlete_id, since))
    performed: Performed = (
        {str(x.id): x for x in loaded.sessions}.get if loaded is not None
        else lambda session_id: stored_session(tx, session_id))
    rows = []
    for plan in plans:
        end = plan.week_start + timedelta(days=6)
        if by_week is not None:
            sessions = sorted((r for d in range(7)
                               for r in by_week.get(plan.week_start + timedelta(days=d), [])),
                              key=lambda r: (r.started_at, r.session_id))
        else:
            sessions = stored_sessions(tx, athlete_id, end, plan.week_start)
        row = week_row(plan, sessions, None, performed)
        rows.append((athlete_id, plan.week_start.isoformat(), int(row["converted"] > 0),
                     json.dumps(row)))
    tx.executemany(f"INSERT INTO {tx.name(WEEKS)} (athlete_id, week_start, converted, row_json) "
                   "VALUES (%s, %s, %s, %s)", rows)
    chunks.rewrite(tx, SERIES["weeks"], "weeks", athlete_id, since,
                   rows=[(r[1], r[3]) for r in rows] if loaded else None)


def stored_session(db: Reader, session_id: str) -> TrainingSession | None:
    """A session's state as the read model keeps it (None: not known)."""
    rows = db.query(f"SELECT state FROM {db.name(STATES)} WHERE entity_id = %s AND "
                    "kind = 'session'", (session_id,))
    return decode_state(TrainingSession, rows[0]["state"]) if rows else None


def stored_sessions(db: Reader, athlete_id: str, until: date,
                    since: date | None = None) -> list[SessionRow]:
    where, params = "athlete_id = %s AND day <= %s", [athlete_id, until.isoformat()]
    if since is not None:
        where += " AND day >= %s"
        params.append(since.isoformat())
    return [SessionRow.from_json(json.loads(r["row_json"])) for r in db.query(
        f"SELECT row_json FROM {db.name(SESSIONS)} WHERE {where} "
        "ORDER BY started_at, session_id", params)]
