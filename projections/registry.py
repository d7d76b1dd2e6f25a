"""The views the projection runner feeds, by name (``trainledger project NAME``)."""

from __future__ import annotations

from projections.base import View
from projections.load import LoadView
from projections.snapshots import AnalyticsView
from services.application import TrainingLog
from services.tables import ServiceTables


def all_views(app: TrainingLog, db: ServiceTables) -> dict[str, View]:
    views: list[View] = [LoadView(), AnalyticsView(app, db)]
    return {view.name: view for view in views}
