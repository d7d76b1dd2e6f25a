"""Conversion readiness: may this athlete turn a volume session into a training session?

The protocol, explicitly: a week holds 3 training sessions (each tied to an objective) and
one or more volume sessions that only accumulate work; as recovery capacity improves, a
volume session is converted into a training session (a plan event).  Each criterion has a
default, and the thresholds are athlete settings (``readiness_*``):

1. training adherence over the last 3 complete weeks ≥ 90 % (training slots done as training,
   :mod:`projections.execution`);
2. ACWR within 0.8-1.3, the "sweet spot" of Gabbett 2016 (:mod:`projections.fatigue`), judged
   once the current block has 28 days of history;
3. form not below −30 % of fitness: TSB as a percentage of CTL, so that the floor does not
   depend on the load's units; −30 % is the lower edge of the "optimal" band in
   intervals.icu's form zones (its Fitness page).  Judged once the current block spans
   2 × ``ctl_days`` (84 days): CTL starts at 0 and has only reached 1 − e^(−t/42) of its
   level after t days, so form is deeply negative, and meaningless, while it builds;
4. recovery not suppressed (lnRMSSD and resting HR vs baseline, :mod:`projections.recovery`);
5. effort at equal work: each training session of the last complete week is compared with the
   earlier training sessions of its sport at similar work (volume load, or minutes without
   one, within ±15 %) in the 6 weeks before; the mean rise in session RPE must stay under
   half a point (RPEs are entered in half points, so a smaller rise is within one step).
   Sessions shortened for life's demands find no like session and drop out.

The current block starts with the first session after the last gap of 28 days or more
without one (:func:`projections.derive.sequence_sessions`), so an old imported file does not
make a comeback look settled.

A criterion that cannot be judged yet says so (``judged: false`` and why) and has no
``passed``.  Verdict: ``back off`` when ACWR is above 1.5 or recovery is suppressed;
``ready`` when adherence and ACWR are judged and pass and every other judged criterion
passes (form, recovery and effort are not always measurable: unjudged, they do not block);
``not yet`` otherwise.  ``line`` says it in a sentence with the next step.  With ``ready``,
the volume session to convert (the next planned one not yet converted); for every conversion
already made, how the athlete responded in the complete weeks after.
"""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from typing import Any

from projections.derive import ACWR_CHRONIC, BLOCK_GAP_DAYS
from projections.execution import adherence
from projections.facts import Facts, FatigueDay, SessionRow
from projections.recovery import recovery
from services.domain.weeks import week_start

ACWR_BACK_OFF = 1.5
RPE_RISE = 0.5  # one step of the half-point scale RPEs are entered on
LIKE_WORK = 0.15  # similar work: within ±15 %
LIKE_WEEKS = 6
BLOCKING_WHEN_UNJUDGED = {"training_adherence_3w", "acwr"}


def _criterion(name: str, value: Any, threshold: str, passed: bool | None, why: str = "",
               ) -> dict[str, Any]:
    """``passed`` None: not judged, ``why`` says why."""
    out: dict[str, Any] = {"name": name, "value": value, "threshold": threshold,
                           "judged": passed is not None}
    if passed is not None:
        out["passed"] = passed
    if why:
        out["reason"] = why
    return out


def _work(row: SessionRow) -> float | None:
    if row.volume_load_kg > 0:
        return row.volume_load_kg
    return row.minutes or None


def effort_trend(facts: Facts, day: date, this_week: date) -> dict[str, Any]:
    last = this_week - timedelta(weeks=1)
    rows = [r for r in facts.sessions(day, last - timedelta(weeks=LIKE_WEEKS))
            if r.classification == "training" and r.session_rpe is not None]
    threshold = f"RPE rise <= {RPE_RISE:g} at like work"
    rises, compared = [], []
    for r in rows:
        if not last <= r.day < this_week:
            continue
        work = _work(r)
        like = [e for e in rows if e.started_at < r.started_at and e.sport == r.sport
                and e.day < last and work is not None and (w := _work(e)) is not None
                and abs(w - work) <= LIKE_WORK * work]
        if like:
            rises.append(float(r.session_rpe or 0.0) - statistics.fmean(
                float(e.session_rpe or 0.0) for e in like))
            compared.append(r.session_id)
    if not rises:
        return _criterion("session_rpe_trend", None, threshold, None,
                          "no training session of the last week has a like earlier one "
                          "(same sport, work within 15%, with an RPE)")
    rise = statistics.fmean(rises)
    return _criterion("session_rpe_trend", {"rpe_rise": round(rise, 2),
                                            "sessions_compared": len(compared)},
                      threshold, rise <= RPE_RISE)


def _block(facts: Facts, day: date) -> date | None:
    """The first day of the current block, None if no session in the last 28 days."""
    recent = facts.sessions(day, day - timedelta(days=BLOCK_GAP_DAYS - 1))
    return recent[-1].block_start if recent else None


def criteria(facts: Facts, day: date, today: FatigueDay | None) -> list[dict[str, Any]]:
    s = facts.athlete.settings
    this_week = week_start(day + timedelta(days=1), facts.first_day_of_week)  # ended weeks
    complete = [w.row for w in facts.weeks(day, this_week - timedelta(weeks=3))
                if w.week_start < this_week]
    adh = adherence(complete, "training_done", "training_planned")
    min_adh = float(s["readiness_adherence_pct"])
    block = _block(facts, day)
    block_days = (day - block).days + 1 if block else 0
    acwr = round(today.acwr, 3) if today is not None and today.acwr is not None else None
    ctl = today.ctl if today is not None else 0.0
    form = round(100 * today.tsb / ctl, 1) if today is not None and ctl else None
    low, high, floor = (float(s["readiness_acwr_low"]), float(s["readiness_acwr_high"]),
                        float(s["readiness_tsb_min"]))
    settle = 2 * int(s["ctl_days"])
    rec = recovery(facts, day)["status"]
    since = block + timedelta(days=ACWR_CHRONIC - 1) if block else None
    acwr_check = (
        _criterion("acwr", None, f"{low:g}-{high:g}", None,
                   "no session in the last 28 days") if block is None else
        _criterion("acwr", acwr, f"{low:g}-{high:g}", None,
                   f"needs 28 days of history in this block (from {since})")
        if block_days < ACWR_CHRONIC or acwr is None else
        _criterion("acwr", acwr, f"{low:g}-{high:g}", low <= acwr <= high))
    form_check = (
        _criterion("form_pct_of_ctl", form, f">= {floor:g}%", None,
                   f"fitness still building from 0: judged after {settle} days of this block"
                   + (f" (from {block + timedelta(days=settle - 1)})" if block else ""))
        if block_days < settle or form is None else
        _criterion("form_pct_of_ctl", form, f">= {floor:g}%", form >= floor))
    return [
        _criterion("training_adherence_3w", adh, f">= {min_adh:g}%",
                   adh >= min_adh if adh is not None and len(complete) == 3 else None,
                   "" if len(complete) == 3 else
                   f"{len(complete)} of the last 3 weeks were planned"),
        acwr_check,
        form_check,
        _criterion("recovery", rec, "not suppressed",
                   rec != "suppressed" if rec is not None else None,
                   "" if rec is not None else "not enough resting HR or HRV data"),
        effort_trend(facts, day, this_week),
    ]


def verdict(checks: list[dict[str, Any]]) -> str:
    by_name = {c["name"]: c for c in checks}
    acwr = by_name["acwr"]["value"]
    if (acwr is not None and acwr > ACWR_BACK_OFF) or by_name["recovery"]["value"] == \
            "suppressed":
        return "back off"
    for c in checks:
        if c.get("passed") is False or (not c["judged"] and c["name"] in
                                        BLOCKING_WHEN_UNJUDGED):
            return "not yet"
    return "ready"


def verdict_line(result: str, checks: list[dict[str, Any]],
                 recommended: dict[str, Any] | None) -> str:
    """The verdict in one sentence, with the next step."""
    by_name = {c["name"]: c for c in checks}
    if result == "back off":
        acwr = by_name["acwr"]["value"]
        why = (f"ACWR {acwr:g} is above {ACWR_BACK_OFF:g}" if acwr is not None
               and acwr > ACWR_BACK_OFF else "recovery is suppressed")
        return f"Back off — {why}; keep the volume session easy this week."
    if result == "ready":
        slot = (f" ({recommended['title'] or 'volume session'}"
                f"{', ' + recommended['day'] if recommended.get('day') else ''})"
                if recommended else "")
        return f"Ready — convert the next volume session{slot} into a training session."
    first = next(c for c in checks if c.get("passed") is False or (
        not c["judged"] and c["name"] in BLOCKING_WHEN_UNJUDGED))
    labels = {"training_adherence_3w": "training adherence", "acwr": "ACWR",
              "form_pct_of_ctl": "form", "recovery": "recovery",
              "session_rpe_trend": "effort at like work"}
    label = labels[first["name"]]
    why = first.get("reason") or f"{first['value']} is outside {first['threshold']}"
    return f"Not yet — {label}: {why}; keep all 3 training sessions."


def recommended_slot(facts: Facts, day: date) -> dict[str, Any] | None:
    """The next planned volume session still to do and not converted: this week's if it is
    still ahead, else a later week's."""
    since = week_start(day, facts.first_day_of_week)
    plans = facts.plans(since)
    if not plans:
        return None
    done = {r.planned_session_id for r in facts.sessions(
        max(p.week_start for p in plans) + timedelta(days=6), since) if r.planned_session_id}
    for plan in plans:
        for slot in plan.sessions.values():
            if (slot["role"] != "volume" or slot.get("cancelled") or slot.get("converted")
                    or slot["planned_session_id"] in done
                    or (slot.get("day") and slot["day"] < day.isoformat())):
                continue
            return {"week_start": plan.week_start.isoformat(), **{
                k: slot.get(k) for k in ("planned_session_id", "title", "day")}}
    return None


def conversions(facts: Facts, day: date) -> list[dict[str, Any]]:
    """Each conversion so far, with the athlete's response in the complete weeks since
    (up to 4): ``too early`` until one week has ended."""
    out = []
    converted = facts.converted_weeks(day)
    settings = facts.athlete.settings
    for i, start in enumerate(converted):
        if i and converted[i - 1] == start - timedelta(weeks=1):
            continue  # one entry per run of consecutive converted weeks
        per_week = {w.week_start: w.row for w in facts.weeks(
            min(day, start + timedelta(weeks=4)), start)}
        after = []
        for k in range(4):
            week = start + timedelta(weeks=k)
            end = week + timedelta(days=6)
            if end >= day:
                break  # judged on complete weeks only
            row = per_week.get(week)
            fat = facts.fatigue_days(end, end)
            after.append({
                "week_start": week.isoformat(),
                "training_adherence_pct": adherence([row], "training_done", "training_planned")
                if row else None,
                "acwr": round(fat[0].acwr, 3) if fat and fat[0].acwr is not None else None,
                "tsb": round(fat[0].tsb, 2) if fat else None,
                "recovery": recovery(facts, end)["status"],
            })
        coping = all((w["training_adherence_pct"] or 0) >= float(
            settings["readiness_adherence_pct"]) and w["recovery"] != "suppressed"
            and (w["acwr"] is None or w["acwr"] <= ACWR_BACK_OFF) for w in after)
        out.append({"week_start": start.isoformat(), "weeks_after": after,
                    "response": "too early" if not after else
                    "coping" if coping else "struggling"})
    return out


def readiness(facts: Facts, day: date) -> dict[str, Any]:
    series = facts.fatigue_days(day, day)
    checks = criteria(facts, day, series[-1] if series else None)
    result = verdict(checks)
    recommended = recommended_slot(facts, day) if result == "ready" else None
    return {
        "week_start": week_start(day, facts.first_day_of_week).isoformat(),
        "verdict": result, "line": verdict_line(result, checks, recommended),
        "criteria": checks, "recommended": recommended, "conversions": conversions(facts, day),
    }
