"""Conversion readiness: may this athlete turn a volume session into a training session?

The protocol, explicitly: a week holds 3 training sessions (each tied to an objective) and
one or more volume sessions that only accumulate work; as recovery capacity improves, a
volume session is converted into a training session (a plan event).  Each criterion below has
a default, and the thresholds are athlete settings (``readiness_*``):

1. training adherence over the last 3 complete weeks ≥ 90 % (training slots done as training,
   :mod:`projections.execution`);
2. ACWR within 0.8-1.3, the "sweet spot" of Gabbett 2016 (:mod:`projections.fatigue`);
3. form not below −30 % of fitness: TSB as a percentage of CTL, so that the floor does not
   depend on the load's units (session-RPE loads run several times TSS); −30 % is the lower
   edge of the "optimal" band in intervals.icu's form zones (its Fitness page).  Judged once
   the history spans 2 × ``ctl_days`` (84 days): CTL starts at 0 and has only reached
   1 − e^(−t/42) of its level after t days, so form is deeply negative, and meaningless,
   while it builds; before that the criterion is not judged (passes, with a note);
4. recovery not suppressed (lnRMSSD and resting HR vs baseline, :mod:`projections.recovery`);
5. session RPE of training sessions stable or falling at equal or higher load: the last
   complete week's mean session RPE at most 0.25 above the two weeks before, with its mean
   volume load at least 95 % of theirs.

Verdict: ``back off`` when ACWR is above 1.5 or recovery is suppressed (acute warning signs);
``ready`` when every criterion passes; ``not yet`` otherwise.  With the verdict, the
volume session to convert (the next planned one not yet converted), and, for every conversion
already made, how the athlete responded in the weeks after.
"""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from typing import Any

from projections.execution import adherence, classify, weeks
from projections.fatigue import fatigue_series
from projections.history import AthleteHistory
from projections.recovery import recovery
from projections.sessions import session_loads
from services.domain.weeks import week_start

ACWR_BACK_OFF = 1.5
RPE_RISE = 0.25
LOAD_KEPT = 0.95


def _criterion(name: str, value: Any, threshold: str, passed: bool, note: str = "",
               ) -> dict[str, Any]:
    return {"name": name, "value": value, "threshold": threshold, "passed": passed,
            **({"note": note} if note else {})}


def _rpe_trend(history: AthleteHistory, day: date, this_week: date) -> dict[str, Any]:
    loads = [r for r in session_loads(history) if r.day <= day]
    classes = classify(loads)
    first_day = history.athlete.profile["first_day_of_week"]
    by_week: dict[date, list[Any]] = {}
    for r in loads:
        if classes[r.session_id][0] == "training" and r.session_rpe is not None:
            by_week.setdefault(week_start(r.day, first_day), []).append(r)
    last = this_week - timedelta(weeks=1)
    before = [this_week - timedelta(weeks=k) for k in (2, 3)]
    recent, earlier = by_week.get(last, []), [r for w in before for r in by_week.get(w, [])]
    if not recent or not earlier:
        return _criterion("session_rpe_trend", None, "RPE rise <= 0.25 at >= 95% load", False,
                          "not enough training sessions with an RPE in the last 3 weeks")
    rpe_now = statistics.fmean(r.session_rpe for r in recent)
    rpe_then = statistics.fmean(r.session_rpe for r in earlier)
    load_now = statistics.fmean(r.volume_load_kg for r in recent)
    load_then = statistics.fmean(r.volume_load_kg for r in earlier)
    passed = rpe_now <= rpe_then + RPE_RISE and load_now >= LOAD_KEPT * load_then
    return _criterion("session_rpe_trend", {
        "rpe_last_week": round(rpe_now, 2), "rpe_before": round(rpe_then, 2),
        "volume_load_last_week": round(load_now, 1), "volume_load_before": round(load_then, 1),
    }, "RPE rise <= 0.25 at >= 95% load", passed)


def criteria(history: AthleteHistory, day: date) -> list[dict[str, Any]]:
    s = history.settings
    first_day = history.athlete.profile["first_day_of_week"]
    this_week = week_start(day + timedelta(days=1), first_day)  # weeks ended by ``day``
    complete = [w for w in weeks(history, day)
                if this_week - timedelta(weeks=3) <= date.fromisoformat(w["week_start"])
                < this_week]
    adh = adherence(complete, "training_done", "training_planned")
    min_adh = float(s["readiness_adherence_pct"])
    series = fatigue_series(history, day)
    today = series[-1] if series else {}
    acwr, tsb, ctl = today.get("acwr"), today.get("tsb"), today.get("ctl")
    settled = len(series) >= 2 * int(s["ctl_days"])
    form = round(100 * tsb / ctl, 1) if tsb is not None and ctl else None
    low, high, floor = (float(s["readiness_acwr_low"]), float(s["readiness_acwr_high"]),
                        float(s["readiness_tsb_min"]))
    rec = recovery(history, day)["status"]
    return [
        _criterion("training_adherence_3w", adh, f">= {min_adh:g}%",
                   adh is not None and len(complete) == 3 and adh >= min_adh,
                   "" if len(complete) == 3 else f"{len(complete)} of 3 weeks planned"),
        _criterion("acwr", acwr, f"{low:g}-{high:g}", acwr is not None and low <= acwr <= high,
                   "" if acwr is not None else "under 28 days of history"),
        _criterion("form_pct_of_ctl", form, f">= {floor:g}%",
                   not settled or (form is not None and form >= floor),
                   "" if settled else "fitness still building from 0: not judged"),
        _criterion("recovery", rec, "not suppressed", rec != "suppressed",
                   "" if rec is not None else "no recovery data: not judged"),
        _rpe_trend(history, day, this_week),
    ]


def verdict(checks: list[dict[str, Any]]) -> str:
    by_name = {c["name"]: c for c in checks}
    acwr = by_name["acwr"]["value"]
    if (acwr is not None and acwr > ACWR_BACK_OFF) or by_name["recovery"]["value"] == \
            "suppressed":
        return "back off"
    return "ready" if all(c["passed"] for c in checks) else "not yet"


def recommended_slot(history: AthleteHistory, day: date) -> dict[str, Any] | None:
    """The next planned volume session still to do and not converted: this week's if it is
    still ahead, else a later week's."""
    done = {s.planned_session_id for s in history.sessions if s.planned_session_id}
    for plan in history.plans:
        if plan.week_start + timedelta(days=6) < day:
            continue
        for slot in plan.sessions.values():
            if (slot["role"] != "volume" or slot.get("cancelled") or slot.get("converted")
                    or slot["planned_session_id"] in done
                    or (slot.get("day") and slot["day"] < day.isoformat())):
                continue
            return {"week_start": plan.week_start.isoformat(), **{
                k: slot.get(k) for k in ("planned_session_id", "title", "day")}}
    return None


def conversions(history: AthleteHistory, day: date) -> list[dict[str, Any]]:
    """Each conversion so far, with the athlete's response in the weeks since (up to 4)."""
    out = []
    per_week = {w["week_start"]: w for w in weeks(history, day)}
    series = {row["day"]: row for row in fatigue_series(history, day)}
    converted_weeks = [p.week_start for p in history.plans
                       if any(s.get("converted") for s in p.sessions.values())]
    for i, start in enumerate(converted_weeks):
        if start > day or (i and converted_weeks[i - 1] == start - timedelta(weeks=1)):
            continue  # one entry per run of consecutive converted weeks
        after = []
        for k in range(4):
            week = start + timedelta(weeks=k)
            end = min(week + timedelta(days=6), day)
            if week > day:
                break
            row = per_week.get(week.isoformat())
            fat = series.get(end.isoformat(), {})
            after.append({
                "week_start": week.isoformat(),
                "training_adherence_pct": adherence([row], "training_done", "training_planned")
                if row else None,
                "acwr": fat.get("acwr"), "tsb": fat.get("tsb"),
                "recovery": recovery(history, end)["status"],
            })
        coping = all((w["training_adherence_pct"] or 0) >= float(
            history.settings["readiness_adherence_pct"]) and w["recovery"] != "suppressed"
            and (w["acwr"] is None or w["acwr"] <= ACWR_BACK_OFF) for w in after)
        out.append({"week_start": start.isoformat(), "weeks_after": after,
                    "response": "coping" if coping else "struggling"})
    return out


def readiness(history: AthleteHistory, day: date) -> dict[str, Any]:
    checks = criteria(history, day)
    return {
        "week_start": week_start(day, history.athlete.profile["first_day_of_week"]).isoformat(),
        "verdict": verdict(checks), "criteria": checks,
        "recommended": recommended_slot(history, day), "conversions": conversions(history, day),
    }
