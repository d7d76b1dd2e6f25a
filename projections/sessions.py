"""Per-session training load from an athlete's history (the session-load view, as computed).

For each session: its local day, planned role, minutes, session-RPE load (Foster et al.
2001), Banister TRIMP and Edwards TRIMP from the heart-rate histogram (or average HR ×
duration when there is none), with the profile (max/resting HR, sex) in effect on that day
and the athlete's Edwards zone bounds (setting ``hr_zone_bounds_pct``),
and the volume load (Σ reps × kg over working sets).  The formulas are in
:mod:`projections.science.load`.

The load that feeds fatigue (``load``) is the session-RPE load; a session without an RPE
(a device import before the athlete rated it) falls back to power, TSS from its Normalized
Power against the profile's FTP on that day (``ftp_w``), else the file's CP (Allen & Coggan
2010), then to Edwards TRIMP, which also counts weighted minutes (weights 1-5 against
CR-10's 0-10), so a device-only history still has a load series.  ``load_source`` says which
was used: ``srpe``, ``power_tss``, ``power_tss (file CP)``, ``trimp_edwards``,
``trimp_edwards (file max HR)`` (no max HR in the profile on that day: the device file's
own, ``file_hr`` in the device summary) or ``none``.

Minutes are timer time (pauses left out) for a device import: a session imported before
timer time was recorded as its duration still has the file's elapsed time, and is counted
by its timer time too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from projections.facts import SessionRow
from projections.science.load import (
    banister_trimp,
    banister_trimp_histogram,
    edwards_trimp,
    edwards_trimp_avg,
    power_tss,
    session_rpe_load,
)
from services.domain.athlete import Athlete
from services.domain.session import TrainingSession
from services.domain.weeks import local_day


def _minutes(session: TrainingSession) -> float | None:
    device = session.device or {}
    timer, elapsed = device.get("timer_s"), device.get("elapsed_s")
    if session.duration_min is not None:
        minutes = float(session.duration_min)
        if timer and elapsed and 0 < timer <= elapsed and minutes == round(elapsed / 60, 2):
            return float(timer) / 60  # imported with elapsed time as its duration
        return minutes
    if session.ended_at is not None:
        return (session.ended_at - session.started_at).total_seconds() / 60
    return None


def _trimps(session: TrainingSession, profile: dict[str, Any], minutes: float | None,
            bounds: list[float] | None) -> tuple[float | None, float | None]:
    hr_max, hr_rest = profile.get("max_hr"), profile.get("resting_hr")
    histogram = {int(b): float(s) for b, s in
                 ((session.device or {}).get("hr_histogram") or {}).items()}
    if not hr_max:
        return None, None
    if histogram:
        edwards = edwards_trimp(histogram, hr_max, bounds)
        banister = (banister_trimp_histogram(histogram, hr_rest, hr_max, profile.get("sex"))
                    if hr_rest and hr_rest < hr_max else None)
    elif session.avg_hr and minutes:
        edwards = edwards_trimp_avg(minutes, session.avg_hr, hr_max, bounds)
        banister = (banister_trimp(minutes, session.avg_hr, hr_rest, hr_max, profile.get("sex"))
                    if hr_rest and hr_rest < hr_max else None)
    else:
        return None, None
    return (round(banister, 2) if banister is not None else None), round(edwards, 2)


def hr_settings(profile: dict[str, Any], session: TrainingSession
                ) -> tuple[dict[str, Any], bool]:
    """The max/resting HR to weigh the session with, and whether they are the file's: the
    profile's in effect on its day, else the device file's own (``file_hr``)."""
    from_file = (session.device or {}).get("file_hr") or {}
    if profile.get("max_hr") or not from_file.get("max_hr"):
        return profile, False
    return {**profile, "max_hr": from_file["max_hr"],
            "resting_hr": from_file.get("resting_hr")}, True


def power_load(profile: dict[str, Any], session: TrainingSession,
               minutes: float | None) -> tuple[float | None, str]:
    """TSS from the session's Normalized Power (device summary ``power``) against the
    profile's FTP in effect on its day, else the file's CP; with the threshold's source."""
    power = (session.device or {}).get("power") or {}
    normalized = power.get("np_w")
    if not normalized or not minutes:
        return None, ""
    if profile.get("ftp_w"):
        return round(power_tss(minutes, normalized, float(profile["ftp_w"])), 2), ""
    if power.get("cp_w"):
        return round(power_tss(minutes, normalized, float(power["cp_w"])), 2), " (file CP)"
    return None, ""


def session_tss(athlete: Athlete, session: TrainingSession) -> tuple[float | None, str | None]:
    """The session's power TSS (``power_load`` with the profile of its day) and what it is
    against: ``ftp_w`` (the profile's) or ``file CP``; (None, None) without power."""
    tss, threshold = power_load(athlete.profile_on(session.started_at), session,
                                _minutes(session))
    return (None, None) if tss is None else (tss, "file CP" if threshold else "ftp_w")


def volume_load(sets: Iterable[dict[str, Any]]) -> float:
    """Σ reps × load (kg) over working sets (warm-ups and sets without load or reps out)."""
    return sum((s.get("reps") or 0) * (s.get("load_kg") or 0) for s in sets
               if s.get("set_type") != "warmup")


def session_load(athlete: Athlete, session: TrainingSession) -> SessionRow:
    """A session's load, with the profile in effect when it started; its day is taken in
    the zone it was recorded in, so a later move of the athlete leaves past days alone."""
    profile = athlete.profile_on(session.started_at)
    minutes = _minutes(session)
    volume = volume_load(session.sets.values())
    srpe = (round(session_rpe_load(session.session_rpe, minutes), 2)
            if session.session_rpe is not None and minutes is not None else None)
    hr, from_file = hr_settings(profile, session)
    banister, edwards = _trimps(session, hr, minutes, athlete.settings.get("hr_zone_bounds_pct"))
    tss, threshold = power_load(profile, session, minutes)
    if srpe is not None:
        load, source = srpe, "srpe"
    elif tss is not None:
        load, source = tss, "power_tss" + threshold
    elif edwards is not None:
        load, source = edwards, "trimp_edwards" + (" (file max HR)" if from_file else "")
    else:
        load, source = 0.0, "none"
    return SessionRow(
        str(session.id), local_day(session.started_at, session.timezone), session.sport,
        session.planned_role, session.objective_id, session.planned_session_id,
        round(minutes, 2) if minutes is not None else None, session.session_rpe,
        len(session.sets), round(volume, 2), srpe, banister, edwards, load, source,
        session.started_at, power_tss=tss,
    )
