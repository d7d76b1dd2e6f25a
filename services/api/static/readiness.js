// trainledger: the readiness verdict and its criteria, drawn the same on every page.
// A criterion is passed, failed, or "not judged" (with why): never a pass by default.
"use strict";

const TLReadiness = (() => {
  const { el, fmt, $ } = TL;
  const CRITERIA = {
    training_adherence_3w: "Training adherence, 3 weeks",
    acwr: "ACWR",
    form_pct_of_ctl: "Form, % of fitness",
    recovery: "Recovery",
    session_rpe_trend: "Session RPE trend",
  };
  const VERDICTS = { ready: "Ready", "not yet": "Not yet", "back off": "Back off" };

  function criterionValue(value, name) {
    if (value === null || value === undefined) return "–";
    if (name === "session_rpe_trend" && typeof value === "object") {
      return `RPE ${value.rpe_rise >= 0 ? "+" : ""}${fmt(value.rpe_rise, 2)} at like work ` +
        `(${value.sessions_compared} session${value.sessions_compared === 1 ? "" : "s"})`;
    }
    if (name === "training_adherence_3w" || name === "form_pct_of_ctl") return `${fmt(value)}%`;
    if (typeof value === "object") {
      return Object.entries(value).map(([k, v]) => `${k.replace(/_/g, " ")} ${fmt(v, 2)}`)
        .join("; ");
    }
    return fmt(value, 2);
  }

  function criterionResult(c) {
    if (!c.judged) return ["unjudged", "– not judged"];
    return c.passed ? ["pass", "✓ pass"] : ["fail", "✗ fail"];
  }

  /** The verdict (#verdict), its line with the next step (#verdict-line), the criteria rows
   *  (#criteria), the session to convert (#recommended) and the last conversion
   *  (#conversions): the panel of ``_readiness.html``. */
  function draw(readiness) {
    const verdict = $("verdict");
    verdict.textContent = VERDICTS[readiness.verdict] || readiness.verdict;
    verdict.dataset.verdict = readiness.verdict;
    $("verdict-line").textContent = readiness.line || "";
    $("criteria").replaceChildren(...readiness.criteria.map((c) => {
      const [kind, label] = criterionResult(c);
      return el("tr", { "data-criterion": c.name, "data-result": kind },
        el("th", { scope: "row" }, CRITERIA[c.name] || c.name.replace(/_/g, " "),
          c.reason ? el("span", { class: "note" }, c.reason) : null),
        el("td", { class: "value", "data-label": "Value" }, criterionValue(c.value, c.name)),
        el("td", { class: "threshold", "data-label": "Needs" }, c.threshold),
        el("td", { class: `result ${kind}` }, label));
    }));
    const rec = readiness.recommended;
    $("recommended").textContent = rec ?
      `Convert ${rec.title || "the volume session"}` +
      (rec.day ? ` on ${rec.day}` : "") + ` (week of ${rec.week_start}).` : "";
    const last = readiness.conversions[readiness.conversions.length - 1];
    $("conversions").textContent = last ?
      `Last conversion, week of ${last.week_start}: ${last.response}.` : "";
  }

  return { draw };
})();
