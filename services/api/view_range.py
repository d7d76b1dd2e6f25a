"""The dashboard's date range on a view's answer: ``from``/``to`` keep the entries of its long
series (lists of rows, stored or built, dated by ``day``, ``week_start`` or their ``set``'s
day, at any depth) that fall inside the range; a week is kept while any of its days is.
Single figures (today's, a goal's standing) are untouched."""

from __future__ import annotations

from datetime import date, timedelta
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


def check_range(start: date | None, end: date | None) -> None:
    if start and end and start > end:
        raise InvalidValue(f"from is after to ({start.isoformat()} > {end.isoformat()})", "from")


def _span(row: Any) -> tuple[date, date] | None:
    """The first and last day a row covers: its day, or its week."""
    if not isinstance(row, dict):
        return None
    nested: dict[str, Any] = row["set"] if isinstance(row.get("set"), dict) else {}
    try:
        if isinstance(row.get("day"), str):
            day = date.fromisoformat(row["day"])
            return day, day
        if isinstance(row.get("week_start"), str):
            first = date.fromisoformat(row["week_start"])
            return first, first + timedelta(days=6)
        if isinstance(nested.get("day"), str):
            day = date.fromisoformat(nested["day"])
            return day, day
    except ValueError:
        return None
    return None


def clip(answer: Any, start: date | None, end: date | None) -> Any:
    """``answer`` with every dated list cut to ``start``..``end`` (inclusive)."""
    if start is None and end is None:
        return answer
    low, high = start or date.min, end or date.max
    if isinstance(answer, RawRows):  # stored rows, serialized: parsed only when cut
        answer = plain(answer)
    if isinstance(answer, dict):
        return {k: clip(v, start, end) for k, v in answer.items()}
    if isinstance(answer, list):
        spans = [_span(r) for r in answer]
        if answer and all(s is not None for s in spans):
            answer = [r for r, s in zip(answer, spans, strict=True)
                      if s is not None and s[0] <= high and s[1] >= low]
        return [clip(r, start, end) for r in answer]
    return answer
