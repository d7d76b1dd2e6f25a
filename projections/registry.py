"""The views the projection runner feeds, by name (``trainledger project NAME``)."""

from __future__ import annotations

from projections.base import View
from projections.load import LoadView


def all_views() -> dict[str, View]:
    views: list[View] = [LoadView()]
    return {view.name: view for view in views}
