"""The dashboard's date range on a view's answer: ``from``/``to`` keep the entries of its long
series (lists of rows, stored or built, dated by ``day``, ``week_start`` or their ``set``'s
day, at any depth) that fall inside the range.  Single figures (today's, a goal's standing)
are untouched."""

from __future__ import annotations

from datetime import date
from typing import Any

from projections.facts import RawRows, plain
from services.domain.errors import InvalidValue


def parse_day(value: str | None, name: str) -> date | None:
    """A ``from``/``to`` parameter: an ISO 8601 date, or None."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidValue(f"{name} must be an ISO 8601 date (e.g. 2026-11-01)", name) from None


def _day_of(row: Any) -> str | None:
    if not isinstance(row, dict):
        return None
    found = row.get("day") or row.get("week_start")
    if found is None and isinstance(row.get("set"), dict):
        found = row["set"].get("day")
    return found if isinstance(found, str) else None


def clip(answer: Any, start: date | None, end: date | None) -> Any:
    """``answer`` with every dated list cut to ``start``..``end`` (inclusive)."""
    if start is None and end is None:
        return answer
    low, high = (start or date.min).isoformat(), (end or date.max).isoformat()
    if isinstance(answer, RawRows):  # stored rows, serialized: parsed only when cut
        answer = plain(answer)
    if isinstance(answer, dict):
        return {k: clip(v, start, end) for k, v in answer.items()}
    if isinstance(answer, list):
        if answer and all(_day_of(r) is not None for r in answer):
            answer = [r for r in answer if low <= str(_day_of(r)) <= high]
        return [clip(r, start, end) for r in answer]
    return answer


def check_range(start: date | None, end: date | None) -> None:
    if start and end and start > end:
        raise InvalidValue(f"from is after to ({start.isoformat()} > {end.isoformat()})", "from")
