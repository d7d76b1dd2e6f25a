"""``tl_watch_seen``: the files a watched folder showed, per athlete (path, size, mtime)."""

from __future__ import annotations

from services.tables import ServiceTables, Tx

TABLE = "tl_watch_seen"


class SeenFiles:
    """The table of files seen in watched folders, per athlete."""

    def __init__(self, db: ServiceTables) -> None:
        self.table = db.name(TABLE)
        db.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (athlete_id TEXT NOT NULL, "
                   "path TEXT NOT NULL, size BIGINT NOT NULL, mtime DOUBLE PRECISION "
                   "NOT NULL, status TEXT NOT NULL, PRIMARY KEY (athlete_id, path))")

    def forget_athlete(self, tx: Tx, athlete_id: str) -> dict[str, int]:
        """Delete what was seen for the athlete: file paths name them (erasure)."""
        return {TABLE: tx.execute(f"DELETE FROM {self.table} WHERE athlete_id = %s",
                                  (athlete_id,))}
