"""The long series of the answers, kept as chunks of ready JSON text: a month's, a year's.

A view's answer keeps its full content: ten years of the load series is 3,650 rows.  Each
row is serialized once, when it is settled (``*_out`` columns of the read model), and the rows
of each past month are also kept joined in one chunk, and the months of each year before the
series' last in one more, so an answer reads one chunk per past year, one per past month of
its own year and the rows of its own month, and parses nothing: its cost grows with the
bytes of the answer and with its years, not with its rows (on SQLite a row read costs about
as much as 1.5 KB of text).  Settling rewrites the chunks of the months from its mark on (a
set logged today: this month's) and the years' from its year up to the last.

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
    """Rebuild the chunks from ``since`` (a day, or "" for all) on: the months' from its
    month, then the years' (:func:`_rewrite_years`).

    ``rows``: the series' (day, JSON) rows from ``since`` on, in its order, when the caller
    has them in memory (a rebuild: the series has no chunks before ``since``, so none are
    read); otherwise they are read from the source table."""
    fresh = rows is not None
    name = series_name(series, key)
    start = month(since) if since else ""
    tx.execute(f"DELETE FROM {tx.name(CHUNKS)} WHERE athlete_id = %s AND series = %s AND "
               "(month >= %s OR month = %s)", (athlete_id, name, start, start[:4]))
    if rows is None:
        params: list[str] = [athlete_id, *([key] if key is not None else []),
                             f"{start}-01" if start else "", "9999-12-31"]
        rows = ((r["day"], r["out"]) for r in
                tx.query(source.rows_sql(tx.name(source.table), key is not None), params))
    by_month: dict[str, list[str]] = {}
    for day, out in rows:
        if out is not None:
            by_month.setdefault(month(day), []).append(out)
    months = {m: ", ".join(texts) for m, texts in by_month.items()}
    tx.executemany(f"INSERT INTO {tx.name(CHUNKS)} (athlete_id, series, month, text) VALUES "
                   "(%s, %s, %s, %s)", [(athlete_id, name, m, t) for m, t in months.items()])
    _rewrite_years(tx, name, athlete_id, start, months, fresh)


def _rewrite_years(tx: Tx, name: str, athlete_id: str, start: str,
                   months: dict[str, str], fresh: bool) -> None:
    """Join the month chunks of every year before the series' last into one chunk per year,
    from ``start``'s year on, and for any earlier year still without one (a year that was
    the last when it was written: its chunk is made once the series moves into the next).
    The last year stays in months (a write today rewrites no year's chunk), so a series has
    the same chunks however its rows came, one at a time or rebuilt at once.  ``fresh``: no
    chunk of the series is stored before ``start`` (a rebuild), so none is read."""
    chunks = tx.name(CHUNKS)
    last = max(months, default=None)
    if last is None and not fresh:
        last = tx.query(f"SELECT MAX(month) AS m FROM {chunks} WHERE athlete_id = %s AND "
                        "series = %s AND length(month) = 7", (athlete_id, name))[0]["m"]
    first = start[:4]  # "": every year
    if last is not None and start and not fresh:
        open_month = tx.query(  # the first month of a year before the last without its chunk
            f"SELECT MIN(month) AS m FROM {chunks} c WHERE athlete_id = %s AND series = %s AND "
            "length(month) = 7 AND month < %s AND NOT EXISTS (SELECT 1 FROM "
            f"{chunks} y WHERE y.athlete_id = c.athlete_id AND y.series = c.series AND "
            "y.month = substr(c.month, 1, 4))", (athlete_id, name, last[:4]))[0]["m"]
        first = min(first, open_month[:4]) if open_month else first
    tx.execute(f"DELETE FROM {chunks} WHERE athlete_id = %s AND series = %s AND "  # rewritten,
               "length(month) = 4 AND month >= %s",  # and the last's (it stays in months)
               (athlete_id, name, "" if last is None else min(first, last[:4])))
    if last is None or first >= last[:4]:
        return
    stored = tx.query(f"SELECT month, text FROM {chunks} WHERE athlete_id = %s AND "
                      "series = %s AND length(month) = 7 AND month >= %s AND month < %s",
                      (athlete_id, name, first, start)) if start and not fresh else []
    by_year: dict[str, list[tuple[str, str]]] = {}
    for m, text in [*((r["month"], r["text"]) for r in stored), *months.items()]:
        if m[:4] < last[:4]:
            by_year.setdefault(m[:4], []).append((m, text))
    tx.executemany(f"INSERT INTO {chunks} (athlete_id, series, month, text) VALUES "
                   "(%s, %s, %s, %s)",
                   [(athlete_id, name, y, ", ".join(t for _, t in sorted(parts)))
                    for y, parts in by_year.items()])


def _chunk_texts(db: Reader, athlete_id: str, names: list[str], until: date,
                 ) -> dict[str, list[str]]:
    """Each named series' chunks before ``until``'s month, in order: the years' before its
    year, then the months' after the last of those years.  Every year of a series before
    its last has its chunk (:func:`_rewrite_years`), so only the months of the last years
    are read as months; a store written before the years' chunks has none and reads months.
    Two statements for any number of series (each a round trip on PostgreSQL)."""
    this_month = until.isoformat()[:7]
    chunks, marks = db.name(CHUNKS), ", ".join(["%s"] * len(names))
    out: dict[str, list[str]] = {name: [] for name in names}
    since = dict.fromkeys(names, "")  # the first month each series reads as a month
    for r in db.query(f"SELECT series, month, text FROM {chunks} WHERE athlete_id = %s AND "
                      f"series IN ({marks}) AND length(month) = 4 AND month < %s "
                      "ORDER BY series, month", (athlete_id, *names, this_month[:4])):
        out[r["series"]].append(r["text"])
        since[r["series"]] = f"{int(r['month']) + 1}-01"
    one = (f"SELECT series, month, text FROM {chunks} WHERE athlete_id = %s AND series = %s "
           "AND month >= %s AND month < %s AND length(month) = 7")  # each on the primary key
    months = db.query(" UNION ALL ".join([one] * len(names)), [
        v for name in names for v in (athlete_id, name, since[name], this_month)])
    for r in sorted(months, key=lambda r: (r["series"], r["month"])):
        out[r["series"]].append(r["text"])
    return out


def read(db: Reader, source: Source, series: str, athlete_id: str, until: date,
         key: str | None = None) -> RawRows:
    """The series up to ``until``: the chunks before its month, then the rows of its month
    up to that day."""
    name = series_name(series, key)
    this_month = until.isoformat()[:7]
    out = RawRows(_chunk_texts(db, athlete_id, [name], until)[name])
    params = [athlete_id, *([key] if key is not None else []), f"{this_month}-01",
              until.isoformat()]
    out += (r["out"] for r in db.query(source.rows_sql(db.name(source.table), key is not None),
                                       params) if r["out"] is not None)
    return out


def read_keyed(db: Reader, source: Source, series: str, athlete_id: str, until: date,
               keys: list[str]) -> dict[str, RawRows]:
    """:func:`read` for several keys of a keyed series at once: three statements, not three
    per key."""
    if not keys:
        return {}
    this_month = until.isoformat()[:7]
    names = {series_name(series, key): key for key in keys}
    out = {names[name]: RawRows(texts)
           for name, texts in _chunk_texts(db, athlete_id, list(names), until).items()}
    for r in db.query(source.keyed_rows_sql(db.name(source.table), len(keys)),
                      (athlete_id, *keys, f"{this_month}-01", until.isoformat())):
        if r["out"] is not None:
            out[r["k"]].append(r["out"])
    return out
