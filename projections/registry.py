"""The views the projection runner feeds, by name (``trainledger project NAME``)."""

from __future__ import annotations

from projections.base import View
from projections.read_model import ReadModel


def all_views() -> dict[str, View]:
    """Every view but the directory: the read model all analytic views are served from."""
    views: list[View] = [ReadModel()]
    return {view.name: view for view in views}
