"""Session load view: per session, its day, sets, volume load and session-RPE load.

- Volume load = Σ reps × load (kg) over the session's non-warm-up sets.
- Session-RPE load = CR-10 session RPE × duration in minutes (Foster C. et al., "A new
  approach to monitoring exercise training", J Strength Cond Res 15(1):109-115, 2001).
Discarded sessions stay in the table, flagged, so that a day's series can leave them out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from projections.base import View
from services.domain.session import TrainingSession as S
from services.domain.weeks import local_day
from services.tables import ServiceTables, Tx

if TYPE_CHECKING:
    from projections.replay import Folded

SESSIONS = "tl_load_sessions"
SETS = "tl_load_sets"


def session_rpe_load(rpe: float | None, minutes: float | None) -> float | None:
    """Foster's session-RPE load (arbitrary units): CR-10 RPE × minutes."""
    if rpe is None or minutes is None:
        return None
    return round(rpe * minutes, 2)


class LoadView(View):
    name = "load"
    handles = (S.Started, S.SetLogged, S.SetAmended, S.SetRemoved, S.Ended,
               S.DetailsAmended, S.Discarded, S.ObjectiveLinked)
    tables = (SESSIONS, SETS)

    def create(self, db: ServiceTables) -> None:
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {db.name(SESSIONS)} (session_id TEXT PRIMARY KEY, "
            "athlete_id TEXT NOT NULL, day TEXT NOT NULL, timezone TEXT NOT NULL, "
            "planned_role TEXT NOT NULL, sets INTEGER NOT NULL, volume_load_kg DOUBLE PRECISION "
            "NOT NULL, session_rpe DOUBLE PRECISION, duration_min DOUBLE PRECISION, "
            "srpe_load DOUBLE PRECISION, discarded INTEGER NOT NULL)"
        )
        db.execute(f"CREATE INDEX IF NOT EXISTS tl_load_sessions_day ON {db.name(SESSIONS)} "
                   "(athlete_id, day)")
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {db.name(SETS)} (session_id TEXT NOT NULL, "
            "set_id TEXT NOT NULL, reps INTEGER, load_kg DOUBLE PRECISION, "
            "set_type TEXT NOT NULL, PRIMARY KEY (session_id, set_id))"
        )

    def apply(self, tx: Tx, event: Any) -> None:
        sid = str(event.originator_id)
        if isinstance(event, S.Started):
            day = local_day(event.occurred_at, event.timezone).isoformat()
            tx.execute(
                f"INSERT INTO {tx.name(SESSIONS)} (session_id, athlete_id, day, timezone, "
                "planned_role, sets, volume_load_kg, discarded) "
                "VALUES (%s, %s, %s, %s, %s, 0, 0, 0)",
                (sid, event.athlete_id, day, event.timezone, event.planned_role),
            )
            return
        if isinstance(event, S.SetLogged):
            tx.execute(
                f"INSERT INTO {tx.name(SETS)} (session_id, set_id, reps, load_kg, set_type) "
                "VALUES (%s, %s, %s, %s, %s)",
                (sid, event.set_id, event.reps, event.load_kg, event.set_type),
            )
        elif isinstance(event, S.SetAmended):
            for column in ("reps", "load_kg", "set_type"):
                if column in event.changes:
                    tx.execute(
                        f"UPDATE {tx.name(SETS)} SET {column} = %s "
                        "WHERE session_id = %s AND set_id = %s",
                        (event.changes[column], sid, event.set_id),
                    )
        elif isinstance(event, S.SetRemoved):
            tx.execute(f"DELETE FROM {tx.name(SETS)} WHERE session_id = %s AND set_id = %s",
                       (sid, event.set_id))
        elif isinstance(event, S.Ended):
            self._set_rpe(tx, sid, event.session_rpe, event.duration_min)
        elif isinstance(event, S.DetailsAmended):
            row = tx.query(f"SELECT session_rpe, duration_min FROM {tx.name(SESSIONS)} "
                           "WHERE session_id = %s", (sid,))[0]
            self._set_rpe(tx, sid, event.changes.get("session_rpe", row["session_rpe"]),
                          event.changes.get("duration_min", row["duration_min"]))
        elif isinstance(event, S.ObjectiveLinked):
            tx.execute(f"UPDATE {tx.name(SESSIONS)} SET planned_role = %s WHERE session_id = %s",
                       (event.planned_role, sid))
        elif isinstance(event, S.Discarded):
            tx.execute(f"UPDATE {tx.name(SESSIONS)} SET discarded = 1 WHERE session_id = %s",
                       (sid,))
        self._totals(tx, sid)

    def rebuild(self, tx: Tx, folded: Folded) -> bool:
        sessions, sets = [], []
        for session in folded.of_kind("session"):
            sid = str(session.id)
            rows = list(session.sets.values())
            volume = 0.0
            for s in rows:
                sets.append((sid, s["set_id"], s["reps"], s["load_kg"], s["set_type"]))
                if s["set_type"] != "warmup" and s["reps"] is not None \
                        and s["load_kg"] is not None:
                    volume += s["reps"] * s["load_kg"]
            sessions.append((
                sid, session.athlete_id,
                local_day(session.started_at, session.timezone).isoformat(), session.timezone,
                session.planned_role, len(rows), volume, session.session_rpe,
                session.duration_min, session_rpe_load(session.session_rpe,
                                                       session.duration_min),
                int(session.discarded)))
        tx.executemany(
            f"INSERT INTO {tx.name(SESSIONS)} (session_id, athlete_id, day, timezone, "
            "planned_role, sets, volume_load_kg, session_rpe, duration_min, srpe_load, "
            "discarded) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", sessions)
        tx.executemany(f"INSERT INTO {tx.name(SETS)} (session_id, set_id, reps, load_kg, "
                       "set_type) VALUES (%s, %s, %s, %s, %s)", sets)
        return True

    def _set_rpe(self, tx: Tx, sid: str, rpe: float | None, minutes: float | None) -> None:
        tx.execute(
            f"UPDATE {tx.name(SESSIONS)} SET session_rpe = %s, duration_min = %s, "
            "srpe_load = %s WHERE session_id = %s",
            (rpe, minutes, session_rpe_load(rpe, minutes), sid),
        )

    def _totals(self, tx: Tx, sid: str) -> None:
        tx.execute(
            f"UPDATE {tx.name(SESSIONS)} SET "
            f"sets = (SELECT COUNT(*) FROM {tx.name(SETS)} WHERE session_id = %s), "
            f"volume_load_kg = (SELECT COALESCE(SUM(reps * load_kg), 0) FROM {tx.name(SETS)} "
            "WHERE session_id = %s AND set_type <> 'warmup' AND load_kg IS NOT NULL "
            "AND reps IS NOT NULL) WHERE session_id = %s",
            (sid, sid, sid),
        )


def session_rows(db: ServiceTables, athlete_id: str) -> list[dict[str, Any]]:
    return db.query(f"SELECT * FROM {db.name(SESSIONS)} WHERE athlete_id = %s ORDER BY day",
                    (athlete_id,))
