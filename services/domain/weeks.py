"""Calendar helpers: days and weeks in the athlete's time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

WEEKDAY_INDEX = {
    name: i
    for i, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}


def local_day(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def week_start(day: date, first_day_of_week: str = "monday") -> date:
    """The first day of the week containing ``day``."""
    offset = (day.weekday() - WEEKDAY_INDEX[first_day_of_week]) % 7
    return day - timedelta(days=offset)
