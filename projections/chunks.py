"""The long series of the answers, kept as monthly chunks of ready JSON text.

A view's answer keeps its full content: ten years of the load series is 3,650 rows.  Each
row is serialized once, when it is settled (``*_out`` columns of the read model), and the rows
of each past month are also kept joined in one chunk, so an answer reads one chunk per month
plus the rows of the current month, and parses nothing: its cost grows with the months, by
a few microseconds each, not with the rows.  Settling rewrites the chunks of the months from
its mark on (a set logged today: this month's).

Every series has a source: the table and column holding its rows' JSON, the column giving
each row's day, the order of the rows, and an optional filter (``key`` for one exercise).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from projections.facts import RawRows
from services.tables import Reader, Tx

CHUNKS = "tl_rm_chunks"
DDL = ("athlete_id TEXT NOT NULL, series TEXT NOT NULL, month TEXT NOT NULL, "
       "text TEXT NOT NULL, PRIMARY KEY (athlete_id, series, month)")


@dataclass(frozen=True)
class Source:
    table: str
    column: str
    day: str  # the column with each row's day (ISO)
    order: str
    where: str = ""  # a filter
    key: str = ""  # the column a keyed series is filtered on (one exercise, one metric)

    def rows_sql(self, name: str, keyed: bool) -> str:
        """The rows of one series (keyed: the key is bound first) between two days."""
        where = f" AND {self.where}" if self.where else ""
        if keyed:
            where = f" AND {self.key} = %s{where}"
        return (f"SELECT {self.column} AS out, {self.day} AS day FROM {name} WHERE "
                f"athlete_id = %s{where} AND {self.day} >= %s AND {self.day} <= %s "
                f"ORDER BY {self.order}")

    def keyed_rows_sql(self, name: str, keys: int) -> str:
        """The rows of ``keys`` keys' series (bound after the athlete) between two days."""
        where = f" AND {self.where}" if self.where else ""
        marks = ", ".join(["%s"] * keys)
        return (f"SELECT {self.key} AS k, {self.column} AS out, {self.day} AS day FROM {name} "
                f"WHERE athlete_id = %s AND {self.key} IN ({marks}){where} AND "
                f"{self.day} >= %s AND {self.day} <= %s ORDER BY {self.key}, {self.order}")


def month(day: str) -> str:
    return day[:7]


def series_name(series: str, key: str | None) -> str:
    return f"{series}:{key}" if key is not None else series


def rewrite(tx: Tx, source: Source, series: str, athlete_id: str, since: str,
            key: str | None = None, rows: Iterable[tuple[str, str | None]] | None = None,
            ) -> None:
    """Rebuild the chunks of the months from ``since`` (a day, or "" for all) on.

    ``rows``: the series' (day, JSON) rows from ``since`` on, in its order, when the caller
    has them in memory (a rebuild); otherwise they are read from the source table."""
    name = series_name(series, key)
    start = month(since) if since else ""
    tx.execute(f"DELETE FROM {tx.name(CHUNKS)} WHERE athlete_id = %s AND series = %s AND "
               "month >= %s", (athlete_id, name, start))
    if rows is None:
        params: list[str] = [athlete_id, *([key] if key is not None else []),
                             f"{start}-01" if start else "", "9999-12-31"]
        rows = ((r["day"], r["out"]) for r in
                tx.query(source.rows_sql(tx.name(source.table), key is not None), params))
    by_month: dict[str, list[str]] = {}
    for day, out in rows:
        if out is not None:
            by_month.setdefault(month(day), []).append(out)
    tx.executemany(f"INSERT INTO {tx.name(CHUNKS)} (athlete_id, series, month, text) VALUES "
                   "(%s, %s, %s, %s)",
                   [(athlete_id, name, m, ", ".join(texts)) for m, texts in by_month.items()])


def read(db: Reader, source: Source, series: str, athlete_id: str, until: date,
         key: str | None = None) -> RawRows:
    """The series up to ``until``: the chunks of the months before its month, then the rows
    of its month up to that day."""
    name = series_name(series, key)
    this_month = until.isoformat()[:7]
    out = RawRows(r["text"] for r in db.query(
        f"SELECT text FROM {db.name(CHUNKS)} WHERE athlete_id = %s AND series = %s AND "
        "month < %s ORDER BY month", (athlete_id, name, this_month)))
    params = [athlete_id, *([key] if key is not None else []), f"{this_month}-01",
              until.isoformat()]
    out += (r["out"] for r in db.query(source.rows_sql(db.name(source.table), key is not None),
                                       params) if r["out"] is not None)
    return out


def read_keyed(db: Reader, source: Source, series: str, athlete_id: str, until: date,
               keys: list[str]) -> dict[str, RawRows]:
    """:func:`read` for several keys of a keyed series at once: two statements, not two per
    key (each a round trip on PostgreSQL)."""
    out = {key: RawRows() for key in keys}
    if not keys:
        return out
    this_month = until.isoformat()[:7]
    names = {series_name(series, key): key for key in keys}
    marks = ", ".join(["%s"] * len(names))
    for r in db.query(f"SELECT series, text FROM {db.name(CHUNKS)} WHERE athlete_id = %s AND "
                      f"series IN ({marks}) AND month < %s ORDER BY series, month",
                      (athlete_id, *names, this_month)):  # the primary key's order: no sort
        out[names[r["series"]]].append(r["text"])
    for r in db.query(source.keyed_rows_sql(db.name(source.table), len(keys)),
                      (athlete_id, *keys, f"{this_month}-01", until.isoformat())):
        if r["out"] is not None:
            out[r["k"]].append(r["out"])
    return out
