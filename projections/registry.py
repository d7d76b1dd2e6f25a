"""The views the projection runner feeds, by name (``trainledger project NAME``)."""

from __future__ import annotations

from projections.base import OFFSETS, TRACKING, VERSIONS, View
from projections.read_model import ReadModel
from services.tables import ServiceTables

#: views of earlier versions, and their tables: dropped on upgrade (the read model replaces
#: them; it builds itself from the log on first start, or at once with ``replay --in-place``)
RETIRED = {"load": ("tl_load_sessions", "tl_load_sets"),
           "analytics": ("tl_analytics_owned", "tl_analytics_views")}


def all_views() -> dict[str, View]:
    """Every view but the directory: the read model all analytic views are served from."""
    views: list[View] = [ReadModel()]
    return {view.name: view for view in views}


def retire_old_views(db: ServiceTables) -> list[str]:
    """Drop the tables and bookkeeping of retired views; returns the tables dropped."""
    dropped = [t for tables in RETIRED.values() for t in tables if db.exists(t)]
    with db.transaction() as tx:
        for table in dropped:
            tx.execute(f"DROP TABLE {tx.name(table)}")
        for bookkeeping in (TRACKING, OFFSETS, VERSIONS):
            if db.exists(bookkeeping):
                for view in RETIRED:
                    tx.execute(f"DELETE FROM {tx.name(bookkeeping)} WHERE view = %s", (view,))
    return dropped
