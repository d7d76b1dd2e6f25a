// trainledger dashboard: the athlete's views, charted with uPlot, refreshed when the
// athlete's revision (GET /athletes/{id}/revision) changes.
"use strict";

(() => {
  const { api, el, fmt, $, dayLabel } = TL;
  const POLL_MS = 3000;
  const DAY = 86400;
  const VIEWS = ["fatigue", "load", "execution", "strength", "goals", "readiness"];
  const COLORS = {
    fitness: "#0b5cad", fatigue: "#c2185b", form: "#1a7f37", acwr: "#6639ba",
    band: "rgba(26, 127, 55, 0.16)", bandEdge: "#5a9a6b", load: "#0b5cad",
    training: "#0b5cad", volume: "#b35900", converted: "#1a7f37",
    target: "#57606a", projection: "#6639ba", deadline: "#c2185b", goal: "#0b5cad",
  };
  const LIFTS = ["#0b5cad", "#c2185b", "#1a7f37", "#b35900", "#6639ba", "#00707a", "#8a6d00",
    "#57606a"];

  /** What the tests and the screenshot script read: the uPlot instances and the state. */
  const state = { charts: {}, goalCharts: {}, refreshes: 0, revision: null, athleteId: null,
    unit: "kg", firstDay: "monday", query: "" };
  window.trainledgerDashboard = state;

  let generation = 0;
  let timer = null;
  let busy = false;

  const ts = (day) => Date.UTC(+day.slice(0, 4), +day.slice(5, 7) - 1, +day.slice(8, 10)) / 1000;
  const tzDate = (t) => uPlot.tzDate(new Date(t * 1e3), "Etc/UTC");
  const legendValue = (digits) => (u, v) => (v == null ? "–" : v.toFixed(digits));

  function size(container) {
    const width = Math.max(260, Math.floor(container.clientWidth));
    return { width, height: width < 520 ? 200 : 240 };
  }

  const dayValue = (_u, v) => (v == null ? "–" : new Date(v * 1e3).toISOString().slice(0, 10));
  const LB = 0.45359237;
  /** A mass in kg in the athlete's unit (a number). */
  const inUnit = (kg) => (kg == null ? null : state.unit === "lb" ? kg / LB : kg);

  /** The legend shows each series' latest value while the cursor is away from the chart. */
  function latest(u) {
    if (u.cursor.idx != null || !u.data[0].length) return;
    const idxs = u.data.map((column) => {
      for (let i = column.length - 1; i >= 0; i--) if (column[i] != null) return i;
      return null;
    });
    u.setLegend({ idx: u.data[0].length - 1, idxs });
  }

  /** "No data yet", and what to do, above an empty chart. */
  function emptyNote(container, empty, text) {
    let note = container.previousElementSibling;
    if (!note || !note.classList.contains("no-data")) {
      note = el("p", { class: "no-data empty-next" });
      container.before(note);
    }
    note.textContent = text;
    note.hidden = !empty;
    container.dataset.empty = empty ? "yes" : "no";
  }

  /** The days a chart spans: its data's, ``tail`` seconds past the last, and a week around
   *  a single day (a new athlete's first session), which uPlot would widen by 86400 of its
   *  own units: 1000 days of seconds. */
  function dayRange(u, min, max, tail = 0) {
    const xs = u.data[0];
    if (!xs.length) return [min, max];
    const [first, last] = [xs[0], xs[xs.length - 1]];
    return first === last && !tail ? [first - 3 * DAY, last + 3 * DAY] : [first, last + tail];
  }

  /** Draw (or update) a chart in a container; ``key`` names it in ``state``. */
  function chart(key, container, opts, data, store = state.charts,
                 empty = "No data yet: log a session on the Log page to see it here.") {
    emptyNote(container, !data[0].length, empty);
    const shape = opts.series.map((s) => s.label || "").join("|");
    const old = store[key];
    if (old && old.shape === shape && old.root.parentNode === container) {
      old.setData(data);
      latest(old);
      return old;
    }
    if (old) old.destroy();
    const series = opts.series.map((s, i) => (i === 0 && !s.value ? { ...s, value: dayValue } : s));
    const hooks = { ...(opts.hooks || {}), setCursor: [latest] };
    const scales = { ...opts.scales, x: { time: true,  // (uPlot passes the scale's key 4th)
      range: (self, min, max) => dayRange(self, min, max), ...(opts.scales || {}).x } };
    const u = new uPlot({ ...size(container), tzDate, ...opts, series, hooks, scales }, data,
      container);
    u.shape = shape;
    store[key] = u;
    latest(u);
    return u;
  }

  const resizer = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const u = entry.target.uplot;
      if (u) u.setSize(size(entry.target));
    }
  });

  function observe(container, u) {
    container.uplot = u;
    resizer.observe(container);
  }

  // ------------------------------------------------------------------ the charts

  function drawFitness(fatigue) {
    const rows = fatigue.series;
    const box = $("chart-fitness");
    const u = chart("fitness", box, {
      series: [
        { label: "Day" },
        { label: "Fitness (CTL)", stroke: COLORS.fitness, width: 2, value: legendValue(1) },
        { label: "Fatigue (ATL)", stroke: COLORS.fatigue, width: 2, value: legendValue(1) },
        { label: "Form (TSB)", stroke: COLORS.form, width: 2, dash: [6, 3],
          value: legendValue(1) },
      ],
      axes: [{}, { size: 48 }],
    }, [rows.map((r) => ts(r.day)), rows.map((r) => r.ctl), rows.map((r) => r.atl),
      rows.map((r) => r.tsb)]);
    observe(box, u);
    const t = fatigue.today || {};
    box.setAttribute("aria-label", `Fitness, fatigue and form over ${rows.length} days; ` +
      `today fitness ${fmt(t.ctl)}, fatigue ${fmt(t.atl)}, form ${fmt(t.tsb)}.`);
  }

  function drawAcwr(fatigue, settings) {
    const rows = fatigue.series;
    const low = settings.readiness_acwr_low ?? 0.8;
    const high = settings.readiness_acwr_high ?? 1.3;
    $("acwr-band").textContent = `${low}–${high}`;
    const box = $("chart-acwr");
    const u = chart("acwr", box, {
      series: [
        { label: "Day" },
        { label: "ACWR", stroke: COLORS.acwr, width: 2, value: legendValue(2) },
        { label: `Low ${low}`, stroke: COLORS.bandEdge, width: 1, dash: [3, 3],
          points: { show: false }, value: legendValue(2) },
        { label: `High ${high}`, stroke: COLORS.bandEdge, width: 1, dash: [3, 3],
          points: { show: false }, value: legendValue(2) },
      ],
      bands: [{ series: [3, 2], fill: COLORS.band }],
      scales: { y: { range: (_u, min, max) => [0, Math.max(max ?? 0, high) * 1.1] } },
      axes: [{}, { size: 48 }],
    }, [rows.map((r) => ts(r.day)), rows.map((r) => r.acwr), rows.map(() => low),
      rows.map(() => high)]);
    observe(box, u);
    const acwr = (fatigue.today || {}).acwr;
    box.setAttribute("aria-label", `ACWR over ${rows.length} days; today ${fmt(acwr, 2)}, ` +
      `target range ${low} to ${high}.`);
  }

  function drawLoad(load) {
    const rows = load.days;
    const box = $("chart-load");
    const u = chart("load", box, {
      series: [
        { label: "Day" },
        { label: "Load", stroke: COLORS.load, fill: COLORS.load, width: 0,
          paths: uPlot.paths.bars({ size: [0.7, 14] }), points: { show: false },
          value: legendValue(0) },
      ],
      scales: { y: { range: (_u, _min, max) => [0, (max || 1) * 1.05] } },
      axes: [{}, { size: 48 }],
    }, [rows.map((r) => ts(r.day)), rows.map((r) => r.load)]);
    observe(box, u);
    const last = rows.filter((r) => r.load > 0).pop();
    box.setAttribute("aria-label", `Daily load over ${rows.length} days` +
      (last ? `; last training day ${last.day} with load ${fmt(last.load, 0)}.` : "."));
  }

  /** Three bars side by side in each week: the k-th of n starts at week_start + offset. */
  function weekBars(k, n) {
    const width = 6 / n;
    return uPlot.paths.bars({
      disp: {
        x0: { unit: 1, values: (u) => u.data[0].map((x) => x + (0.5 + k * width) * DAY) },
        size: { unit: 1, values: () => [width * 0.85 * DAY] },
      },
    });
  }

  function drawWeeks(execution) {
    const weeks = execution.weeks;
    const box = $("chart-weeks");
    const bar = (label, color, k) => ({
      label, stroke: color, fill: color, width: 0, paths: weekBars(k, 3),
      points: { show: false }, value: legendValue(0),
    });
    const u = chart("weeks", box, {
      series: [
        { label: "Week of", value: (_u, v) => (v == null ? "–" :
          new Date(v * 1e3).toISOString().slice(0, 10)) },
        bar("Training", COLORS.training, 0),
        bar("Volume / workout", COLORS.volume, 1),
        bar("Converted", COLORS.converted, 2),
      ],
      scales: {
        x: { time: true, range: (u, min, max) => dayRange(u, min, max, 7 * DAY) },
        y: { range: (_u, _min, max) => [0, Math.max(max || 0, 4) + 0.5] },
      },
      axes: [{}, { size: 40, incrs: [1, 2, 5, 10] }],
      cursor: { points: { show: false } },
    }, [weeks.map((w) => ts(w.week_start)), weeks.map((w) => w.training_done),
      weeks.map((w) => Math.max(w.completed - w.training_done, 0)),
      weeks.map((w) => w.converted)]);
    observe(box, u);
    box.setAttribute("aria-label", `Sessions per week over ${weeks.length} weeks; ` +
      `adherence over the last 4 weeks ${fmt(execution.adherence_pct_4w, 0)}%.`);
  }

  function drawE1rm(strength) {
    const lifts = strength.exercises.filter((e) => e.e1rm_series && e.e1rm_series.length)
      .sort((a, b) => (b.latest_e1rm_kg ?? 0) - (a.latest_e1rm_kg ?? 0));
    const days = [...new Set(lifts.flatMap((e) => e.e1rm_series.map((p) => p.day)))].sort();
    const index = new Map(days.map((d, i) => [d, i]));
    const columns = lifts.map((e) => {
      const column = days.map(() => null);
      for (const p of e.e1rm_series) column[index.get(p.day)] = inUnit(p.e1rm_kg);
      return column;
    });
    const box = $("chart-e1rm");
    const u = chart("e1rm", box, {
      series: [{ label: "Day" }, ...lifts.map((e, i) => ({
        label: e.name, stroke: LIFTS[i % LIFTS.length], width: 2, spanGaps: true,
        points: { show: true, size: 5 }, value: legendValue(1),
      }))],
      axes: [{}, { size: 48 }],
    }, [days.map(ts), ...columns]);
    observe(box, u);
    box.setAttribute("aria-label", "Estimated 1RM: " + (lifts.length ? lifts.map(
      (e) => `${e.name} ${fmt(inUnit(e.latest_e1rm_kg))} ${state.unit}`).join(", ") :
      "no loaded sets yet") + ".");
  }

  function goalChart(goal, box, i) {
    const values = goal.values;
    if (!values.length) {
      box.replaceChildren(el("p", { class: "empty-next" }, "No data yet: log a value (This " +
        "week, check-in) or a session to see progress."));
      return null;
    }
    const first = ts(values[0].day);
    const lastDay = ts(values[values.length - 1].day);
    const deadline = goal.deadline ? ts(goal.deadline) : null;
    let end = Math.max(lastDay, deadline ?? lastDay);
    if (end === first) end = first + 7 * DAY;
    const projected = goal.projected_date ? ts(goal.projected_date) : null;
    // the projection: from the latest value to the target on the projected date, cut at the
    // chart's end (a month past the deadline at most)
    const limit = end + Math.max(30 * DAY, (end - first) * 0.25);
    let projection = null;
    if (projected !== null && projected > lastDay && goal.current_value !== null) {
      const until = Math.min(projected, limit);
      const at = goal.current_value + (goal.target_value - goal.current_value) *
        (until - lastDay) / (projected - lastDay);
      projection = [[lastDay, goal.current_value], [until, at]];
      end = Math.max(end, until);
    }
    const xs = [...new Set([...values.map((v) => ts(v.day)), end,
      ...(projection ? projection.map((p) => p[0]) : [])])].sort((a, b) => a - b);
    const byX = new Map(values.map((v) => [ts(v.day), v.value]));
    const projByX = new Map(projection || []);
    const unit = goal.unit ? ` ${goal.unit}` : "";
    const u = chart(`goal-${i}`, box, {
      series: [
        { label: "Day" },
        { label: "Value", stroke: COLORS.goal, width: 2, spanGaps: true,
          points: { show: values.length < 40, size: 5 }, value: legendValue(1) },
        { label: "Target", stroke: COLORS.target, width: 1.5, dash: [8, 4],
          points: { show: false }, value: legendValue(1) },
        { label: "Projected", stroke: COLORS.projection, width: 2, dash: [2, 4],
          spanGaps: true, points: { show: false }, value: legendValue(1) },
      ],
      axes: [{}, { size: 48 }],
      scales: { x: { time: true, range: () => [first, end] } },
      hooks: {
        draw: [(plot) => {
          if (deadline === null) return;
          const x = Math.round(plot.valToPos(deadline, "x", true));
          const { ctx } = plot;
          ctx.save();
          ctx.setLineDash([]);
          ctx.strokeStyle = COLORS.deadline;
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(x, plot.bbox.top);
          ctx.lineTo(x, plot.bbox.top + plot.bbox.height);
          ctx.stroke();
          ctx.restore();
        }],
      },
    }, [xs, xs.map((x) => byX.get(x) ?? null), xs.map(() => goal.target_value),
      xs.map((x) => projByX.get(x) ?? null)], state.goalCharts);
    box.setAttribute("aria-label", `${goal.title}: ${fmt(goal.current_value)}${unit} now, ` +
      `target ${fmt(goal.target_value)}${unit}` +
      (goal.deadline ? ` by ${goal.deadline}` : "") +
      (goal.projected_date ? `, projected ${goal.projected_date}.` : ", no projection."));
    observe(box, u);
    return u;
  }

  function drawGoals(goals) {
    const holder = $("goals");
    const list = goals.goals.filter((g) => g.status === "active" || g.status === "achieved");
    // keep the chart containers when the goals are the same, so charts update in place
    const ids = list.map((g) => g.goal_id).join("|");
    if (holder.dataset.ids !== ids) {
      for (const u of Object.values(state.goalCharts)) u.destroy();
      state.goalCharts = {};
      holder.replaceChildren();
      holder.dataset.ids = ids;
      list.forEach((g, i) => {
        holder.append(el("article", { class: "goal", "aria-labelledby": `goal-${i}-title` },
          el("h3", { id: `goal-${i}-title` }), el("p", { class: "goal-facts" }),
          el("div", { class: "plot", role: "img", id: `goal-${i}-plot` })));
      });
    }
    if (!list.length) {
      holder.replaceChildren(el("p", { class: "empty-next" }, "No goals yet: set an " +
        "objective on the Week page."));
    }
    list.forEach((g, i) => {
      const unit = g.unit ? ` ${g.unit}` : "";
      $(`goal-${i}-title`).textContent = g.title;
      const track = g.progress || "";
      const facts = [
        `now ${fmt(g.current_value)}${unit}`, `target ${fmt(g.target_value)}${unit}`,
        g.deadline ? `deadline ${g.deadline}` : "no deadline",
        g.projected_date ? `projected ${g.projected_date}` : "no projection",
      ];
      const p = $(`goal-${i}-plot`).previousElementSibling;
      p.replaceChildren(facts.join(" · "), track ? " · " : "",
        track ? el("strong", { class: track === "off track" ? "fail" : "pass" }, track) : "");
      goalChart(g, $(`goal-${i}-plot`), i);
    });
  }

  // ------------------------------------------------------------------ tiles and readiness

  function drawTiles(fatigue, execution) {
    const t = fatigue.today || {};
    $("t-ctl").textContent = fmt(t.ctl);
    $("t-atl").textContent = fmt(t.atl);
    $("t-tsb").textContent = fmt(t.tsb);
    $("t-acwr").textContent = fmt(t.acwr, 2);
    $("t-adherence").textContent = execution.adherence_pct_4w == null ? "–" :
      `${fmt(execution.adherence_pct_4w, 0)}%`;
    $("flags").textContent = fatigue.flags.length ?
      `Flags: ${fatigue.flags.map((f) => f.replace(/_/g, " ")).join(", ")}` : "";
  }

  // ------------------------------------------------------------------ refresh and polling

  // ------------------------------------------------------------------ sessions and records

  const massText = (kg) => `${fmt(inUnit(kg))} ${state.unit}`;

  function setLine(x, names) {
    const parts = [names.get(x.exercise_id) || x.exercise_id];
    if (x.reps != null && x.load_kg != null) parts.push(`${x.reps} × ${massText(x.load_kg)}`);
    else if (x.reps != null) parts.push(`${x.reps} reps`);
    if (x.rpe != null) parts.push(`@ RPE ${fmt(x.rpe)}`);
    if (x.set_type && x.set_type !== "working") parts.push(`(${x.set_type})`);
    return parts.join(" ");
  }

  /** Time in 10-bpm bands of a device's heart-rate histogram, as bars. */
  function hrBands(histogram) {
    const bands = new Map();
    for (const [bpm, seconds] of Object.entries(histogram || {})) {
      const low = Math.floor(Number(bpm) / 10) * 10;
      bands.set(low, (bands.get(low) || 0) + seconds);
    }
    const total = [...bands.values()].reduce((a, b) => a + b, 0);
    if (!total) return "";
    const rows = [...bands.entries()].sort((a, b) => a[0] - b[0]).map(([low, seconds]) => {
      const bar = el("span", { class: "bar" });
      bar.style.width = `${(60 * seconds / total).toFixed(1)}%`;  // CSSOM: allowed by the CSP
      return el("li", { "data-band": low }, el("span", { class: "band" }, `${low}–${low + 9} bpm`),
        bar, el("span", { class: "band-time" }, `${fmt(seconds / 60, 0)} min`));
    });
    return el("div", { class: "hr-bands" }, el("h4", {}, "Heart rate"),
      el("ul", { "aria-label": "Time in heart-rate bands" }, ...rows));
  }

  /** The laps a device file recorded, as a table. */
  function lapTable(laps) {
    if (!laps.length) return "";
    const pace = (l) => (l.pace_s_per_km ? `${Math.floor(l.pace_s_per_km / 60)}:` +
      `${String(Math.round(l.pace_s_per_km % 60)).padStart(2, "0")} /km` : "–");
    return el("div", { class: "laps" }, el("h4", {}, `Laps (${laps.length})`),
      el("table", { class: "lap-table" },
        el("thead", {}, el("tr", {}, ...["Lap", "Time", "Distance", "Pace", "Avg HR",
          "Power"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, ...laps.map((l, i) => el("tr", {},
          el("th", { scope: "row" }, String(i + 1)),
          el("td", { "data-label": "Time" }, l.timer_s != null ? `${fmt(l.timer_s / 60, 1)} min` : "–"),
          el("td", { "data-label": "Distance" }, l.distance_m != null ?
            `${fmt(l.distance_m / 1000, 2)} km` : "–"),
          el("td", { "data-label": "Pace" }, pace(l)),
          el("td", { "data-label": "Avg HR" }, l.avg_hr != null ? fmt(l.avg_hr, 0) : "–"),
          el("td", { "data-label": "Power" }, l.avg_power_w != null ?
            `${fmt(l.avg_power_w, 0)} W` : "–"))))));
  }

  /** Sports logged as sets (a FIT strength activity is "training"): only their sessions say
   *  "No sets." when they have none; a run shows its laps and says nothing about sets. */
  const SET_SPORTS = new Set(["strength_training", "training"]);

  async function sessionDetail(holder, row, names) {
    holder.replaceChildren(el("p", { class: "hint" }, "Loading…"));
    try {
      const id = encodeURIComponent(row.session_id);
      const [s, laps] = await Promise.all([api(`/sessions/${id}`), api(`/sessions/${id}/laps`)]);
      holder.replaceChildren(
        el("p", {}, `${row.classification}: ${row.reason}`),
        el("p", { class: "hint" }, [`${fmt(row.minutes, 0)} min`,
          row.session_rpe != null ? `session RPE ${fmt(row.session_rpe)}` : "no session RPE",
          `load ${fmt(row.load, 0)} (${row.load_source})`,
          row.volume_load_kg ? `volume ${massText(row.volume_load_kg)}` : null,
          s.avg_hr ? `avg HR ${fmt(s.avg_hr, 0)}` : null].filter(Boolean).join(" · ")),
        s.sets.length ? el("ol", { class: "sets" }, ...s.sets.map((x) =>
          el("li", {}, setLine(x, names)))) :
          SET_SPORTS.has(s.sport) ? el("p", { class: "hint no-sets" }, "No sets.") : "",
        lapTable(laps), hrBands(s.hr_histogram),
        s.notes ? el("p", {}, `Notes: ${s.notes}`) : "");
    } catch (err) {
      holder.replaceChildren(el("p", { class: "error" }, `Could not load: ${err.message}`));
    }
  }

  const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday"];

  /** The first day of the athlete's week that holds ``day``. */
  function weekStartOf(day) {
    const d = new Date(`${day}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() - (d.getUTCDay() - WEEKDAYS.indexOf(state.firstDay) + 7) % 7);
    return d.toISOString().slice(0, 10);
  }

  function drawSessions(load, execution, names) {
    const classified = new Map(execution.sessions.map((x) => [x.session_id, x]));
    const rows = load.sessions.map((r) => ({ ...r, ...(classified.get(r.session_id) || {}) }));
    const weeks = new Map(execution.weeks.map((w) => [w.week_start, { week: w, rows: [] }]));
    for (const r of rows) {
      const start = weekStartOf(r.day);
      if (!weeks.has(start)) weeks.set(start, { week: null, rows: [] });
      weeks.get(start).rows.push(r);
    }
    const holder = $("session-weeks");
    const order = [...weeks.keys()].sort().reverse();
    if (!order.length) {
      holder.replaceChildren(el("p", { class: "empty-next" },
        "No sessions yet: plan the week (Week) and log a session (Log)."));
      return;
    }
    holder.replaceChildren(...order.map((start) => {
      const { week, rows: done } = weeks.get(start);
      const head = week ? `Week of ${dayLabel(start)}: ${week.completed} of ${week.planned} ` +
        `done, ${week.training_done} of ${week.training_planned} as training` +
        (week.converted ? `, ${week.converted} converted` : "") +
        (week.missed.length ? ` · missed: ${week.missed.join(", ")}` : "") :
        `Week of ${dayLabel(start)}: no plan`;
      return el("div", { class: "week-block", "data-week": start },
        el("h3", {}, head),
        ...done.map((r) => {
          const detail = el("div", { class: "detail" });
          const item = el("details", { class: "session", "data-session": r.session_id,
            "data-classification": r.classification || "" },
          el("summary", {}, el("span", {}, `${dayLabel(r.day)} · ` +
            `${(r.sport || "session").replace(/_/g, " ")} · ` +
            (r.planned_role && r.planned_role !== "unplanned" ? `planned as ${r.planned_role}`
              : "unplanned")),
          el("span", { class: `badge ${r.classification === "training" ? "done" : ""}` },
            `${r.classification || "–"} · load ${fmt(r.load, 0)}`)), detail);
          item.addEventListener("toggle", () => {
            if (item.open && !detail.childElementCount) sessionDetail(detail, r, names);
          });
          return item;
        }));
    }));
  }

  const RECORDS = { heaviest_kg: "Heaviest", e1rm_kg: "Best e1RM", set_volume_kg: "Best set volume" };

  function drawRecords(strength, names) {
    const standing = new Map();
    for (const r of strength.records) standing.set(`${r.exercise_id}|${r.record}`, r);
    const rows = [...standing.values()].sort((a, b) =>
      (names.get(a.exercise_id) || "").localeCompare(names.get(b.exercise_id) || "") ||
      a.record.localeCompare(b.record));
    $("pr-rows").replaceChildren(...rows.map((r) => {
      const reps = r.record.match(/^most_reps_at_(.+)_kg$/);
      const kind = reps ? `Most reps at ${massText(Number(reps[1]))}` :
        RECORDS[r.record] || r.record.replace(/_/g, " ");
      const value = reps ? `${fmt(r.value, 0)} reps` : massText(r.value);
      return el("tr", { "data-exercise": r.exercise_id, "data-record": r.record },
        el("th", { scope: "row" }, names.get(r.exercise_id) || r.exercise_id),
        el("td", { "data-label": "Record" }, kind), el("td", { "data-label": "Value" }, value),
        el("td", { "data-label": "Set" }, r.set.reps != null && r.set.load_kg != null ?
          `${r.set.reps} × ${massText(r.set.load_kg)}` : "–"),
        el("td", { "data-label": "Day" }, r.set.day));
    }));
    $("prs-empty").hidden = rows.length > 0;
  }

  // ------------------------------------------------------------------ period and day

  const isoDay = (d) => d.toISOString().slice(0, 10);

  function defaultRange() {
    $("r-from").value = isoDay(new Date(Date.now() - 12 * 7 * DAY * 1e3));
    $("r-to").value = "";
    $("r-on").value = "";
    $("r-basis").value = "now";
  }

  /** The views' query: from/to for the period, and on= (as known now) or as_of= (as
   *  recorded then) for the day. */
  function query() {
    const q = new URLSearchParams();
    if ($("r-from").value) q.set("from", $("r-from").value);
    if ($("r-to").value) q.set("to", $("r-to").value);
    const day = $("r-on").value;
    if ($("r-basis").value === "then") q.set("as_of", day || $("r-to").value || isoDay(new Date()));
    else if (day) q.set("on", day);
    const text = q.toString();
    return text ? `?${text}` : "";
  }

  async function refresh(athleteId, gen) {
    const base = `/athletes/${encodeURIComponent(athleteId)}`;
    const q = query();
    state.query = q;
    const [athlete, ...answers] = await Promise.all([
      api(base), ...VIEWS.map((v) => api(`${base}/views/${v}${q}`))]);
    if (gen !== generation || q !== query()) return;  // switched, or the controls changed
    const v = Object.fromEntries(VIEWS.map((name, i) => [name, answers[i]]));
    state.unit = athlete.profile.mass_unit || "kg";
    state.firstDay = athlete.profile.first_day_of_week || "monday";
    $("e1rm-unit").textContent = state.unit;
    const names = new Map(v.strength.exercises.map((e) => [e.exercise_id, e.name]));
    drawSessions(v.load, v.execution, names);
    drawRecords(v.strength, names);
    $("title").textContent = TL.athleteName(athlete);
    drawTiles(v.fatigue, v.execution);
    TLReadiness.draw(v.readiness);
    drawFitness(v.fatigue);
    drawAcwr(v.fatigue, athlete.settings);
    drawLoad(v.load);
    drawWeeks(v.execution);
    drawE1rm(v.strength);
    drawGoals(v.goals);
    state.refreshes += 1;
    state.shown = q;  // the query of what the page now shows
    $("status").textContent = `Updated ${new Date().toLocaleTimeString()} · figures for ` +
      `${v.fatigue.day}` + (v.fatigue.recorded_by ? ` as recorded by ${v.fatigue.recorded_by}` :
      "") + " · updates by itself";
  }

  async function poll(athleteId, gen) {
    if (gen !== generation) return;
    if (!document.hidden && !busy) {
      busy = true;
      try {
        const { revision } = await api(`/athletes/${encodeURIComponent(athleteId)}/revision`);
        if (gen === generation && revision !== state.revision) {
          await refresh(athleteId, gen);
          state.revision = revision;
        }
      } catch (err) {
        if (gen === generation && err.status !== 401) {
          $("status").textContent = `Could not update: ${err.message}. Retrying…`;
        }
      } finally {
        busy = false;
      }
    }
    if (gen === generation) timer = setTimeout(() => poll(athleteId, gen), POLL_MS);
  }

  function stop() {
    generation += 1;
    clearTimeout(timer);
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.athleteId) {
      clearTimeout(timer);
      poll(state.athleteId, generation);
    }
  });

  /** Re-read the views now (the period or the day changed). */
  async function reread() {
    if (!state.athleteId) return;
    const [from, to] = [$("r-from").value, $("r-to").value];
    if (from && to && from > to) {
      $("status").textContent = `Not shown: from is after to (${from} > ${to}).`;
      return;
    }
    const gen = generation;
    try {
      await refresh(state.athleteId, gen);
    } catch (err) {
      if (err.status !== 401) $("status").textContent = `Not shown: ${err.message}`;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    defaultRange();
    for (const id of ["r-from", "r-to", "r-on", "r-basis"]) $(id).addEventListener("change", reread);
    $("r-reset").addEventListener("click", () => { defaultRange(); reread(); });
    TL.start({
      stop,
      ready: ({ athlete }) => {
        stop();
        const switched = state.athleteId !== athlete.athlete_id;
        state.athleteId = athlete.athlete_id;
        if (switched) {
          state.revision = null;
          $("status").textContent = "Loading…";
        }
        poll(athlete.athlete_id, generation);
      },
    });
  });
})();
