"""Value checks shared by the aggregates; each failure names the field at fault."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.domain.errors import InvalidValue

LB_IN_KG = 0.45359237
MAX_CLOCK_SKEW = timedelta(minutes=10)
MAX_LOAD_KG = 1000.0  # above any lift a human has moved (leg press included)


def to_kg(value: float, unit: str, field: str) -> float:
    """Convert a mass entered in ``kg`` or ``lb`` to kg (stored unit)."""
    if unit == "kg":
        return float(value)
    if unit == "lb":
        return round(value * LB_IN_KG, 4)
    raise InvalidValue(f"unknown mass unit {unit!r}: use 'kg' or 'lb'", field)


def check_range(value: float | None, low: float, high: float, field: str) -> None:
    if value is None:
        return
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidValue(f"must be between {low:g} and {high:g}, got {value!r}", field)


def check_half_steps(value: float | None, low: float, high: float, field: str) -> None:
    """Range check plus: the value is a whole or half number (RPE 8.5, RIR 1.5)."""
    check_range(value, low, high, field)
    if value is not None and (value * 2) != int(value * 2):
        raise InvalidValue(f"must be in steps of 0.5, got {value!r}", field)


def check_reps(reps: int, field: str = "reps") -> None:
    if isinstance(reps, bool) or not isinstance(reps, int):
        raise InvalidValue("must be a whole number", field)
    check_range(reps, 0, 1000, field)


def check_load_kg(load_kg: float | None, field: str = "load") -> None:
    check_range(load_kg, 0.0, MAX_LOAD_KG, field)


def check_aware(moment: datetime, field: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidValue("must include a time zone offset", field)


def check_not_future(moment: datetime, now: datetime, field: str) -> None:
    check_aware(moment, field)
    if moment > now + MAX_CLOCK_SKEW:
        raise InvalidValue(f"is in the future ({moment.isoformat()})", field)


def check_timezone(name: str, field: str = "timezone") -> None:
    if not isinstance(name, str):
        raise InvalidValue("must be an IANA time zone name, e.g. Europe/London", field)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidValue(f"unknown time zone {name!r}", field) from exc


#: control characters (C0, DEL, C1); multi-line text may hold tab, line feed and return
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
LINE_BREAKS = frozenset("\t\n\r")


def check_text(value: str | None, field: str, max_len: int = 2000, required: bool = False,
               multiline: bool = False) -> None:
    """Text a person typed: single-line text (names, titles, units) holds no control
    character; multi-line text (notes, reasons) only tab, LF and CR; NUL nowhere (PostgreSQL
    cannot store it, and one stored NUL used to stop a view for everyone)."""
    if value is None:
        if required:
            raise InvalidValue("is required", field)
        return
    if required and not value.strip():
        raise InvalidValue("must not be empty", field)
    if len(value) > max_len:
        raise InvalidValue(f"is longer than {max_len} characters", field)
    for found in CONTROLS.finditer(value):
        char = found.group()
        if multiline and char in LINE_BREAKS:
            continue
        kind = "NUL" if char == "\x00" else f"control character U+{ord(char):04X}"
        where = "" if multiline else " (one line: no tab or line break either)"
        raise InvalidValue(f"contains a {kind} at position {found.start()}{where}", field)


def clean_device_text(value: str | None) -> str | None:
    """Text from a device file, cleaned rather than refused: NUL padding and control
    characters removed, spaces trimmed; None when nothing is left."""
    if value is None:
        return None
    cleaned = CONTROLS.sub("", value).strip()
    return cleaned or None


#: One rule for metric names, wherever a metric is named (observations, goals, check-ins).
METRIC_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
METRIC_NAME_RULE = ("a metric name is a lower-case letter, then up to 62 lower-case letters, "
                    "digits or _ (e.g. deep_work_hours, time_5k_min)")


def check_metric_name(name: object, field: str = "metric") -> None:
    if not isinstance(name, str) or not METRIC_NAME.fullmatch(name):
        raise InvalidValue(f"{METRIC_NAME_RULE}; got {name!r}", field)


def check_choice(value: str, choices: tuple[str, ...] | frozenset[str], field: str) -> None:
    if value not in choices:
        raise InvalidValue(f"must be one of {', '.join(sorted(choices))}; got {value!r}", field)
