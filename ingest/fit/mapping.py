"""From a decoded FIT file to what trainledger records: a plan, not yet events.

- ``activity`` files: one session (a multisport file is one session with its legs), totals
  from ``session`` messages (or, when a battery died before the device wrote them,
  reconstructed from records and laps), a heart-rate histogram (seconds at each bpm) for
  the projections, strength ``set`` messages as sets (rest sets become the rest interval of
  the set before; a set without one identified category is ``unidentified``, with the
  watch's candidate categories), the laps, the file's own max/resting HR (``file_hr``), and
  ``hrv`` R-R intervals, artefacts corrected, as RMSSD: on the session, and as an observation
  when the activity is a resting reading (15 min or less); power (native, or Stryd's
  developer field) as average, maximum and Normalized Power with the file's CP, and the
  developer fields the file holds (``developer``).
- ``weight`` files: body-mass and body-composition observations (on a multi-user scale, only
  the user whose profile matches the athlete's sex, when exactly one does: ``for_athlete``).
- ``workout`` files: a planned session with the workout's steps as its prescription.
- ``monitoring`` files: resting-HR observations.
- Other types are skipped, naming the type.

Identity, for duplicate detection: device serial + file type + the activity's own UTC start
(never the file's creation time alone: SDK examples share placeholder serials and times),
or, without a serial, start + sport + duration.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ingest.fit.decoded import DecodedFit
from projections.science.load import normalized_power
from projections.science.recovery import interpolate_artefacts, rmssd
from services.domain.exercises import FIT_CATEGORY_CODES, UNKNOWN_FIT_CATEGORY, exercise_for_fit
from services.domain.validation import clean_device_text

MAX_GAP_S = 30.0  # a longer gap between records is a pause, not time at that heart rate
# RMSSD is a recovery marker only as a short resting reading (Plews et al. 2012), not from
# R-R intervals recorded during exercise.
HRV_READING_MAX_S = 15 * 60
MAX_LAPS = 1000  # laps kept per session (a pool swim writes one per length)


@dataclass
class ActivityPlan:
    identity: str
    started_at: datetime
    ended_at: datetime
    sport: str
    summary: dict[str, Any]
    sets: list[dict[str, Any]] = field(default_factory=list)
    observations: list[ObservationPlan] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the import result tells the user


@dataclass
class ObservationPlan:
    metric: str
    value: float
    unit: str
    observed_at: datetime
    identity: str
    user: tuple[int, str | None] | None = None  # a multi-user scale's (user index, gender)


@dataclass
class WorkoutPlan:
    identity: str  # a hash of the workout's content: SDK examples share serial and time
    name: str | None
    sport: str | None
    created_at: datetime | None
    steps: list[dict[str, Any]]
    serial: int | None = None
    creator: str | None = None  # file_id.product_name: "trainledger" for its own exports


@dataclass
class FitPlan:
    file_type: str
    device: dict[str, Any]
    activity: ActivityPlan | None = None
    observations: list[ObservationPlan] = field(default_factory=list)
    workout: WorkoutPlan | None = None
    skipped: str | None = None  # why nothing is recorded


def _when(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _finite(column: np.ndarray | None) -> np.ndarray:
    """A numeric column's finite values (none for a missing or non-numeric column: a damaged
    file can declare a field as an array, which decodes as objects)."""
    if column is None or column.dtype.kind not in "fiu":
        return np.array([], dtype=float)
    finite: np.ndarray = column[np.isfinite(column)]
    return finite


def device_of(fit: DecodedFit) -> dict[str, Any]:
    """The recording device; ``product`` is the FIT profile's name when it has one
    (``garmin_product``), else the product id; ``product_name`` the file's own name."""
    file_id = fit.first("file_id") or {}
    product = file_id.get("garmin_product") or file_id.get("product")
    name = file_id.get("product_name")
    return {k: v for k, v in {
        "manufacturer": file_id.get("manufacturer"), "product": product,
        "product_name": (clean_device_text(name) or "")[:80] if isinstance(name, str) else None,
        "serial_number": file_id.get("serial_number"),
        "time_created": _when(file_id.get("time_created")),
    }.items() if v not in (None, "")}


def device_name(device: dict[str, Any]) -> str | None:
    """The file's own product name, else the FIT profile's product name, else the
    manufacturer and product id (e.g. "COROS APEX Pro", "garmin fr965", "coros 841")."""
    if device.get("product_name"):
        return str(device["product_name"])
    product = device.get("product")
    if product is None:
        return None
    return f"{device.get('manufacturer') or ''} {product}".strip()


def file_hr(fit: DecodedFit) -> dict[str, Any] | None:
    """The user's max and resting HR as the device had them: ``zones_target.max_heart_rate``,
    else ``user_profile.default_max_heart_rate``; ``user_profile.resting_heart_rate``
    (0 means unset).  None without a plausible max HR (100-250 bpm)."""
    zones = fit.first("zones_target") or {}
    profile = fit.first("user_profile") or {}
    for source, value in (("zones_target", zones.get("max_heart_rate")),
                          ("user_profile", profile.get("default_max_heart_rate"))):
        top = _num(value)
        if top is not None and 100 <= top <= 250:
            rest = _num(profile.get("resting_heart_rate"))
            out: dict[str, Any] = {"max_hr": top, "from": source}
            if rest is not None and 20 <= rest < top:
                out["resting_hr"] = rest
            return out
    return None


def hr_histogram(fit: DecodedFit) -> dict[int, float]:
    """Seconds spent at each heart rate, from the records (gaps over 30 s are pauses)."""
    records = fit.table("record")
    t = records.columns.get("timestamp")
    hr = records.columns.get("heart_rate")
    if t is None or hr is None or len(t) < 2 or t.dtype.kind not in "fiu" \
            or hr.dtype.kind not in "fiu":
        return {}
    order = np.argsort(t, kind="stable")
    t, hr = t[order], hr[order]
    dt = np.diff(t)
    bpm = hr[:-1]
    ok = np.isfinite(bpm) & np.isfinite(dt) & (dt > 0) & (dt <= MAX_GAP_S) & (bpm > 0)
    seconds = np.bincount(bpm[ok].astype(np.int64), weights=dt[ok])
    return {int(b): round(float(s), 3) for b, s in enumerate(seconds) if s > 0}


DEVELOPER = "developer:"
#: names a critical power or threshold has as a developer field (Stryd: "CP")
CP_NAMES = ("cp", "critical power", "criticalpower")


def developer_fields(fit: DecodedFit) -> dict[str, Any]:
    """The developer fields the file holds (e.g. Stryd's Power, Form Power, Leg Spring
    Stiffness on records, CP on the session): the session's values as they are, the
    records' as their mean and maximum."""
    out: dict[str, Any] = {}
    session = fit.first("session") or {}
    values = {k[len(DEVELOPER):]: v for k, v in session.items() if k.startswith(DEVELOPER)}
    if values:
        out["session"] = values
    columns = fit.table("record").columns
    series = {}
    for key, column in columns.items():
        finite = _finite(column) if key.startswith(DEVELOPER) else np.array([])
        if len(finite):
            series[key[len(DEVELOPER):]] = {"mean": round(float(finite.mean()), 3),
                                            "max": round(float(finite.max()), 3)}
    if series:
        out["record"] = series
    return out


def power_records(fit: DecodedFit) -> tuple[str, np.ndarray, np.ndarray] | None:
    """(field, times, watts) of the records' power, by time: ``power``, else a developer
    field named Power, as Stryd writes it."""
    records = fit.table("record")
    t = records.columns.get("timestamp")
    source = "power" if "power" in records.columns else next(
        (k for k in records.columns if k.lower() == f"{DEVELOPER}power"), None)
    watts = records.columns.get(source) if source else None
    if t is None or watts is None or t.dtype.kind not in "fiu" or watts.dtype.kind not in "fiu":
        return None
    order = np.argsort(t, kind="stable")
    return str(source), t[order], watts[order]


def _per_second(t: np.ndarray, watts: np.ndarray) -> np.ndarray:
    """Power second by second: each record's held to the next (gaps over 30 s are pauses)."""
    dt = np.diff(t)
    ok = np.isfinite(watts[:-1]) & np.isfinite(dt) & (dt > 0) & (dt <= MAX_GAP_S)
    return np.repeat(watts[:-1][ok], np.round(dt[ok]).astype(np.int64))


def power_of(fit: DecodedFit) -> dict[str, Any] | None:
    """Power from the records (``power``, else a developer field named Power, as Stryd
    writes it): average, maximum and Normalized Power over the time recorded (held from one
    record to the next; gaps over 30 s are pauses), and the file's threshold for a
    power-based load: a developer CP field, else the session's ``threshold_power``."""
    found = power_records(fit)
    if found is None:
        return None
    source, t, watts = found
    per_second = _per_second(t, watts)
    normalized = normalized_power(per_second.tolist())
    if normalized is None:
        return None
    out: dict[str, Any] = {"from": source, "avg_w": round(float(per_second.mean()), 1),
                           "max_w": float(np.nanmax(watts)), "np_w": round(normalized, 1),
                           "seconds": len(per_second)}
    session = fit.first("session") or {}
    for key, value in session.items():
        if key.startswith(DEVELOPER) and key[len(DEVELOPER):].lower() in CP_NAMES \
                and (cp := _num(value)) and 50 <= cp <= 800:
            out["cp_w"], out["cp_from"] = cp, key
            break
    else:
        threshold = _num(session.get("threshold_power"))
        if threshold and 50 <= threshold <= 800:
            out["cp_w"], out["cp_from"] = threshold, "threshold_power"
    return out


def hrv_of(fit: DecodedFit) -> dict[str, Any] | None:
    """RMSSD (ms) of the R-R intervals in ``hrv`` messages (each holds up to 5, in s), after
    artefact correction (:func:`projections.science.recovery.interpolate_artefacts`), with
    the number of beats and of corrected ones; None under 20 beats."""
    times = fit.table("hrv").columns.get("time")
    if times is None:
        return None
    values: list[float] = []
    for row in times:
        for v in (row if isinstance(row, tuple) else (row,)):
            if isinstance(v, float | int) and 0.2 < v < 3.0:
                values.append(float(v) * 1000.0)
    if len(values) < 20:
        return None
    corrected, replaced = interpolate_artefacts(values)
    value = rmssd(corrected, filter_artefacts=False)
    if value is None:
        return None
    return {"rmssd_ms": round(value, 2), "beats": len(values), "corrected": replaced}


def _tuple(value: Any) -> tuple[Any, ...]:
    """An array field's values (a damaged file may hold a single value instead)."""
    if value is None:
        return ()
    return value if isinstance(value, tuple) else (value,)


def strength_sets(fit: DecodedFit) -> list[dict[str, Any]]:
    """Active ``set`` messages as sets; a rest message becomes the previous set's rest."""
    sets: list[dict[str, Any]] = []
    for row in fit.table("set").rows():
        if row.get("set_type") == "rest":
            if sets and _num(row.get("duration")) is not None:
                sets[-1]["rest_s"] = round(float(row["duration"]), 3)
            continue
        if row.get("set_type") not in (None, "active"):
            continue
        candidates = _candidates(row)
        if len({c["category"] for c in candidates}) == 1:
            exercise = exercise_for_fit(candidates[0]["category"], candidates[0]["subtype"])
        else:  # none, or the watch hesitated between several: the athlete says which
            exercise = exercise_for_fit(UNKNOWN_FIT_CATEGORY, None)
        reps = row.get("repetitions")
        weight = _num(row.get("weight"))
        duration = _num(row.get("duration"))
        sets.append({
            "exercise_id": exercise.id,
            "reps": int(reps) if isinstance(reps, int) else None,
            "load": weight if weight else None,
            "load_unit": "kg",
            "duration_s": round(duration, 3) if duration is not None else None,
            "performed_at": _when(row.get("start_time")) or _when(row.get("timestamp")),
            "set_type": "working",
            **({"candidates": candidates} if exercise.fit_category == UNKNOWN_FIT_CATEGORY
               and candidates else {}),
            **({"wkt_step_index": step} if isinstance(step := row.get("wkt_step_index"), int)
               and not isinstance(step, bool) else {}),
        })
    for s in sets:  # a set needs reps or a duration
        if s["reps"] is None and s["duration_s"] is None:
            s["duration_s"] = 0.0
    return sets


def _candidates(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The categories (with subtype) a ``set`` message names, unknown (65534) left out."""
    categories = _tuple(row.get("category"))
    subtypes = _tuple(row.get("category_subtype"))
    out = []
    for i, category in enumerate(categories):
        if isinstance(category, str):  # a one-value array, given by its profile name
            category = FIT_CATEGORY_CODES.get(category)
        if isinstance(category, int) and category != UNKNOWN_FIT_CATEGORY:
            subtype = subtypes[i] if i < len(subtypes) else None
            out.append({"category": category,
                        "subtype": subtype if isinstance(subtype, int) else None})
    return out


def lap_rows(fit: DecodedFit) -> list[dict[str, Any]]:
    """Each lap's start, timer and elapsed time, distance, average and maximum HR, speed and
    power (a lap without power: from its records, ``_lap_power``), and the workout step it
    was run for (fields the file does not give are left out)."""
    numbers = {"total_timer_time": "timer_s", "total_elapsed_time": "elapsed_s",
               "total_distance": "distance_m", "avg_heart_rate": "avg_hr",
               "max_heart_rate": "max_hr", "enhanced_avg_speed": "avg_speed_m_s",
               "avg_speed": "avg_speed_m_s", "avg_power": "avg_power_w",
               "max_power": "max_power_w"}
    laps = []
    power = None
    for row in fit.table("lap").rows()[:MAX_LAPS]:
        lap: dict[str, Any] = {}
        start = _when(row.get("start_time"))
        if start is not None:
            lap["started_at"] = start.isoformat()
        for old, new in numbers.items():
            value = _num(row.get(old))
            if value is not None and new not in lap:
                lap[new] = round(value, 3)
        if "avg_power_w" not in lap and start is not None:
            power = power if power is not None else power_records(fit) or ()
            if power:
                lap.update(_lap_power(power, start, _when(row.get("timestamp")), lap))
        step = row.get("wkt_step_index")  # the workout step the lap was run for
        if isinstance(step, int) and not isinstance(step, bool):
            lap["wkt_step_index"] = step
        laps.append(lap)
    return laps


def _lap_power(power: tuple[str, np.ndarray, np.ndarray], start: datetime,
               end: datetime | None, lap: dict[str, Any]) -> dict[str, Any]:
    """A lap's average and maximum power from the records within it (from its start to its
    end, else to its start plus its elapsed time), for a lap that gives none: power from a
    developer field (Stryd) is not in the lap message.  Nothing when no record falls in."""
    source, t, watts = power
    first = start.timestamp()
    if end is None and not lap.get("elapsed_s"):
        return {}  # no end to the lap: its records are not known
    last = end.timestamp() if end is not None else first + float(lap["elapsed_s"])
    inside = (t >= first) & (t <= last)
    t, watts = t[inside], watts[inside]
    finite = watts[np.isfinite(watts)]
    if not len(finite):
        return {}
    per_second = _per_second(t, watts)
    average = per_second.mean() if len(per_second) else finite.mean()
    return {"avg_power_w": round(float(average), 3), "max_power_w": float(finite.max()),
            "power_from": source}


def _weighted_avg_hr(legs: list[dict[str, Any]]) -> float | None:
    """A multisport session's average HR: its legs' averages weighted by their time."""
    pairs = [(float(leg["avg_hr"]), float(leg.get("timer_s") or leg.get("elapsed_s") or 0))
             for leg in legs if _num(leg.get("avg_hr"))]
    total = sum(t for _, t in pairs)
    if not pairs or total <= 0:
        return None
    return round(sum(hr * t for hr, t in pairs) / total, 1)


def _leg(row: dict[str, Any]) -> dict[str, Any]:
    numbers = {"total_elapsed_time": "elapsed_s", "total_timer_time": "timer_s",
               "total_distance": "distance_m", "total_calories": "calories",
               "avg_heart_rate": "avg_hr", "max_heart_rate": "max_hr",
               "avg_power": "avg_power_w", "num_laps": "laps"}
    leg: dict[str, Any] = {"sport": str(row.get("sport") or "generic")}
    if row.get("sub_sport") is not None:
        leg["sub_sport"] = str(row["sub_sport"])
    for old, new in numbers.items():
        value = row.get(old)
        if _num(value) is not None:  # a damaged file may hold an array here: left out
            leg[new] = value
    start = _when(row.get("start_time"))
    if start is not None:
        leg["started_at"] = start.isoformat()
    return leg


#: record.activity_type values that name a sport (the others: transition, sedentary, all)
ACTIVITY_TYPE_SPORTS = ("generic", "running", "cycling", "fitness_equipment", "swimming",
                        "walking")


def _recorded_sport(fit: DecodedFit) -> dict[str, Any]:
    """The sport of an activity without a session message: the ``sport`` message's, else
    the records' most frequent ``activity_type``, else the first lap's, else generic."""
    sport_row = fit.first("sport") or {}
    if sport_row.get("sport") is not None:
        return {k: str(sport_row[k]) for k in ("sport", "sub_sport") if k in sport_row}
    types = fit.table("record").columns.get("activity_type")
    if types is not None:
        named = [str(t) for t in types.tolist() if str(t) in ACTIVITY_TYPE_SPORTS]
        if named:
            return {"sport": max(set(named), key=named.count)}
    lap = fit.first("lap") or {}
    return {"sport": str(lap.get("sport") or "generic")}


def _reconstructed_leg(fit: DecodedFit) -> dict[str, Any] | None:
    """Totals from records and laps, for an activity whose session message is missing."""
    times = _finite(fit.table("record").columns.get("timestamp"))
    if len(times) == 0:
        laps = fit.table("lap").rows()
        if not laps:
            return None
        from_laps = _leg({**laps[0], **_recorded_sport(fit), "total_elapsed_time": sum(
            _num(x.get("total_elapsed_time")) or 0.0 for x in laps)})
        from_laps["reconstructed"] = True
        return from_laps
    start, end = float(times.min()), float(times.max())
    finite_hr = _finite(fit.table("record").columns.get("heart_rate"))
    finite_dist = _finite(fit.table("record").columns.get("distance"))
    leg: dict[str, Any] = {
        **_recorded_sport(fit),
        "started_at": datetime.fromtimestamp(start, UTC).isoformat(),
        "elapsed_s": round(end - start, 3),
        "reconstructed": True,
    }
    if len(finite_hr):
        leg["avg_hr"] = round(float(finite_hr.mean()), 1)
        leg["max_hr"] = float(finite_hr.max())
    if len(finite_dist):
        leg["distance_m"] = float(finite_dist.max())
    return leg


def plan_activity(fit: DecodedFit, device: dict[str, Any]) -> ActivityPlan | None:
    legs = [_leg(row) for row in fit.table("session").rows()]
    if not legs:
        leg = _reconstructed_leg(fit)
        if leg is None:
            return None
        legs = [leg]
    if "started_at" not in legs[0]:  # a session without its start: take the records'
        rebuilt = _reconstructed_leg(fit)
        if rebuilt is None or "started_at" not in rebuilt:
            return None
        legs[0]["started_at"] = rebuilt["started_at"]
        legs[0].setdefault("elapsed_s", rebuilt.get("elapsed_s"))
    started = datetime.fromisoformat(legs[0]["started_at"])
    last = legs[-1]
    last_start = datetime.fromisoformat(last.get("started_at", legs[0]["started_at"]))
    ended_ts = last_start.timestamp() + float(last.get("elapsed_s") or last.get("timer_s") or 0)
    ended = datetime.fromtimestamp(max(ended_ts, started.timestamp()), UTC)
    activity = fit.first("activity") or {}
    local, utc = _when(activity.get("local_timestamp")), _when(activity.get("timestamp"))
    sport = legs[0]["sport"] if len(legs) == 1 else "multisport"
    elapsed = round(ended.timestamp() - started.timestamp(), 3)
    serial = device.get("serial_number")
    if serial is not None:
        identity = f"serial:{serial}:activity:{started.isoformat()}"
    else:
        identity = f"noserial:{started.isoformat()}:{sport}:{round(elapsed)}"
    histogram = hr_histogram(fit)
    summary: dict[str, Any] = {
        "device": {k: (v.isoformat() if isinstance(v, datetime) else v)
                   for k, v in device.items()},
        "sport": sport,
        "legs": legs,
        "laps": len(fit.table("lap")),
        "lap_rows": lap_rows(fit),
        "elapsed_s": elapsed,
        "timer_s": round(sum(float(leg.get("timer_s") or 0) for leg in legs), 3) or None,
        "distance_m": sum(float(leg.get("distance_m") or 0) for leg in legs) or None,
        "calories": sum(int(leg.get("calories") or 0) for leg in legs) or None,
        "avg_hr": legs[0].get("avg_hr") if len(legs) == 1 else _weighted_avg_hr(legs),
        "max_hr": max((float(leg["max_hr"]) for leg in legs if "max_hr" in leg), default=None),
        "avg_power_w": legs[0].get("avg_power_w") if len(legs) == 1 else None,
        "local_offset_s": (round((local - utc).total_seconds())
                           if local is not None and utc is not None else None),
        "hr_histogram": {str(b): s for b, s in histogram.items()},
        "reconstructed": any(leg.get("reconstructed") for leg in legs),
        # salvaged: the file was cut short and only its complete records were read
        "partial": fit.truncated,
        "crc_ok": fit.crc_ok,
    }
    hr_settings = file_hr(fit)
    if hr_settings is not None:
        summary["file_hr"] = hr_settings
    power = power_of(fit)
    if power is not None:
        summary["power"] = power
        if summary["avg_power_w"] is None and len(legs) == 1:
            summary["avg_power_w"] = power["avg_w"]
    developer = developer_fields(fit)
    if developer:
        summary["developer"] = developer
    plan = ActivityPlan(identity, started, ended, sport, summary, strength_sets(fit))
    hrv = hrv_of(fit)
    if hrv is not None:
        summary["hrv"] = hrv
        if not 5.0 <= hrv["rmssd_ms"] <= 250.0:
            plan.notes.append(f"no HRV observation: RMSSD {hrv['rmssd_ms']} ms is outside "
                              "5-250 ms")
        elif elapsed > HRV_READING_MAX_S:
            plan.notes.append(
                f"no HRV observation: the activity lasted {round(elapsed / 60)} min, and a "
                f"resting reading lasts {HRV_READING_MAX_S // 60} min or less (RMSSD "
                f"{hrv['rmssd_ms']} ms is kept on the session)")
        else:
            plan.observations.append(ObservationPlan(
                "hrv_rmssd", hrv["rmssd_ms"], "ms", started, f"{identity}:hrv_rmssd"))
    return plan


#: weight_scale fields -> (metric, unit, plausible low, high)
BODY_COMPOSITION: dict[str, tuple[str, str, float, float]] = {
    "weight": ("body_mass", "kg", 20, 400),
    "percent_fat": ("body_fat_pct", "%", 1, 75),
    "percent_hydration": ("body_water_pct", "%", 20, 80),
    "muscle_mass": ("muscle_mass", "kg", 5, 200),
    "bone_mass": ("bone_mass", "kg", 0.5, 10),
    "visceral_fat_rating": ("visceral_fat_rating", "rating", 1, 59),
    "basal_met": ("basal_metabolic_rate", "kcal/day", 500, 5000),
    "bmi": ("bmi", "kg/m2", 10, 80),
}


def plan_weight(fit: DecodedFit, device: dict[str, Any]) -> list[ObservationPlan]:
    """Body mass and composition observations, each tagged with the scale's user (if any)."""
    genders = {p.get("message_index"): str(p.get("gender"))
               for p in fit.table("user_profile").rows()}
    out = []
    for row in fit.table("weight_scale").rows():
        when = _when(row.get("timestamp"))
        if when is None:
            continue
        user = row.get("user_profile_index")
        for name, (metric, unit, low, high) in BODY_COMPOSITION.items():
            value = _num(row.get(name))
            if value is not None and low <= value <= high:
                out.append(ObservationPlan(
                    metric, value, unit, when,
                    f"{metric}:{device.get('serial_number')}:{when.isoformat()}:{user}",
                    user=(int(user), genders.get(user)) if isinstance(user, int) else None))
    return out


def for_athlete(observations: list[ObservationPlan],
                athlete_sex: str) -> list[ObservationPlan] | str:
    """A multi-user scale's weighings of the athlete, or why they cannot be told apart.

    Such a scale writes every user's weighings with a ``user_profile_index``: only the one
    user whose profile's gender matches the athlete's sex is taken; otherwise the file is
    ambiguous (importing a housemate's weight would corrupt body-mass goals).
    """
    users = {o.user for o in observations if o.user is not None}
    if len(users) <= 1:
        return observations
    mine = [u for u in users if u[1] == athlete_sex]
    if len(mine) != 1:
        return (f"multi-user weight file ({len(users)} users): cannot tell which one is this "
                "athlete (the athlete's sex must match exactly one user profile)")
    return [o for o in observations if o.user == mine[0]]


def plan_workout(fit: DecodedFit) -> WorkoutPlan | None:
    """A workout file's name, sport and steps (durations, targets, repeats, exercises)."""
    workout = fit.first("workout") or {}
    steps = []
    for row in fit.table("workout_step").rows():
        step = {k: (v.isoformat() if isinstance(v, datetime) else
                    round(v, 3) if isinstance(v, float) else v)
                for k, v in row.items() if v is not None and k != "message_index"}
        steps.append({k: (v if isinstance(v, int | float | str) else str(v))
                      for k, v in step.items()})
    if not workout and not steps:
        return None
    sport = workout.get("sport")
    name = workout.get("wkt_name")
    content = json.dumps({"name": name, "sport": str(sport) if sport else None,
                          "steps": steps}, sort_keys=True)
    file_id = fit.first("file_id") or {}
    serial, creator = file_id.get("serial_number"), file_id.get("product_name")
    return WorkoutPlan(hashlib.sha256(content.encode()).hexdigest()[:32],
                       str(name) if name else None, str(sport) if sport else None,
                       _when(file_id.get("time_created")), steps,
                       serial if isinstance(serial, int) else None,
                       clean_device_text(creator) if isinstance(creator, str) else None)


def plan_monitoring(fit: DecodedFit, device: dict[str, Any]) -> list[ObservationPlan]:
    out = []
    for row in fit.table("monitoring_hr_data").rows() + fit.table("monitoring").rows():
        rhr = _num(row.get("resting_heart_rate"))
        when = _when(row.get("timestamp"))
        if rhr and when is not None and 20 <= rhr <= 150:
            out.append(ObservationPlan(
                "resting_hr", rhr, "bpm", when,
                f"rhr:{device.get('serial_number')}:{when.isoformat()}"))
    return out


def plan_fit(fit: DecodedFit) -> FitPlan:
    device = device_of(fit)
    file_id = fit.first("file_id") or {}
    file_type = str(file_id.get("type", "unknown"))
    plan = FitPlan(file_type, device)
    if file_type == "activity" or (file_type == "unknown" and len(fit.table("session"))):
        if isinstance((fit.first("session") or {}).get("start_time"), int):
            plan.skipped = ("activity recorded before the device's clock was set (times are "
                            "relative to power-on): no date to place it on")
            return plan
        plan.activity = plan_activity(fit, device)
        if plan.activity is None:
            plan.skipped = "activity file without a session or timed records"
    elif file_type == "weight":
        plan.observations = plan_weight(fit, device)
    elif file_type == "workout":
        plan.workout = plan_workout(fit)
    elif file_type.startswith("monitoring"):
        plan.observations = plan_monitoring(fit, device)
    if (plan.activity is None and plan.workout is None and not plan.observations
            and plan.skipped is None):
        plan.skipped = f"{file_type} file: nothing trainledger records"
    return plan
