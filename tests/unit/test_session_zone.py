"""The zone an imported FIT session is recorded in (its day follows that zone)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.fit.importer import session_zone
from services.domain.athlete import Athlete
from services.domain.base import Context, Source
from services.domain.weeks import local_day


def athlete() -> Athlete:
    registered = Context(Source("admin"), recorded_at=datetime(2026, 1, 1, tzinfo=UTC))
    ada = Athlete.register(registered, {"name": "Ada", "timezone": "Europe/London"})
    moved = Context(Source("admin"), recorded_at=datetime(2026, 6, 1, tzinfo=UTC))
    ada.update_profile(moved, {"timezone": "Asia/Tokyo"}, datetime(2026, 6, 1, tzinfo=UTC))
    return ada


@pytest.mark.parametrize(("started_at", "offset", "zone"), [
    (datetime(2026, 3, 10, 18, tzinfo=UTC), 0, "Europe/London"),  # GMT, as the profile then
    (datetime(2026, 4, 10, 18, tzinfo=UTC), 3600, "Europe/London"),  # BST, as the profile
    (datetime(2026, 4, 10, 18, tzinfo=UTC), 7200, "Etc/GMT-2"),  # travelling: UTC+2
    (datetime(2026, 7, 10, 18, tzinfo=UTC), 9 * 3600, "Asia/Tokyo"),  # after the move
    (datetime(2026, 7, 10, 18, tzinfo=UTC), 0, "UTC"),  # a watch left on UTC
    (datetime(2026, 7, 10, 18, tzinfo=UTC), 19800, "Asia/Tokyo"),  # +05:30: no fixed zone
    (datetime(2026, 7, 10, 18, tzinfo=UTC), None, "Asia/Tokyo"),  # no local time in the file
])
def test_an_import_takes_the_profile_zone_when_offsets_agree_else_the_files(
        started_at: datetime, offset: int | None, zone: str) -> None:
    assert session_zone(athlete(), started_at, offset) == zone


def test_a_late_evening_abroad_falls_on_the_local_day() -> None:
    late = datetime(2026, 4, 10, 22, 30, tzinfo=UTC)  # 00:30 on the 11th at UTC+2
    assert local_day(late, session_zone(athlete(), late, 7200)).isoformat() == "2026-04-11"
