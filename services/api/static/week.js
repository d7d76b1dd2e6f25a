// trainledger "This week": getting started, the week's plan (3 training + 1 volume), planned
// vs done, readiness and conversion, the daily check-in, objectives and the week review.
// Every write goes through the API; the page re-reads the views after each one.
"use strict";

(() => {
  const { api, write, el, fmt, $ } = TL;
  const LB = 0.45359237;
  const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday"];
  const MASS_KINDS = new Set(["e1rm", "body_mass"]);
  /** What the browser tests read. */
  const state = { loads: 0, athleteId: null, weekStart: null, plan: null, goals: [],
    readiness: null, unit: "kg", readonly: false };
  window.trainledgerWeek = state;
  let generation = 0;

  const base = () => `/athletes/${encodeURIComponent(state.athleteId)}`;
  const say = (text) => { $("message").textContent = text; };

  // ------------------------------------------------------------------ units and days

  /** A mass in kg, shown in the athlete's unit. */
  const mass = (kg) => (kg == null ? "–" :
    `${fmt(state.unit === "lb" ? kg / LB : kg)} ${state.unit}`);
  /** A goal's figure, in the athlete's mass unit when the goal is in kg. */
  function figure(value, goal) {
    if (value == null) return "–";
    if (goal.unit === "kg") return mass(value);
    return `${fmt(value)}${goal.unit ? ` ${goal.unit}` : ""}`;
  }

  function weekStartOf(day, firstDay) {
    const d = new Date(`${day}T00:00:00Z`);
    const back = (d.getUTCDay() - WEEKDAYS.indexOf(firstDay || "monday") + 7) % 7;
    d.setUTCDate(d.getUTCDate() - back);
    return d.toISOString().slice(0, 10);
  }

  const weekday = TL.dayLabel;

  // ------------------------------------------------------------------ reading

  async function load(athlete, gen) {
    const [profile, goals, execution, readiness, loadView, goalsView, sessions] =
      await Promise.all([
        api(base()), api(`${base()}/goals`), api(`${base()}/views/execution`),
        api(`${base()}/views/readiness`), api(`${base()}/views/load`),
        api(`${base()}/views/goals`), api(`${base()}/sessions?limit=50`)]);
    if (gen !== generation) return;
    state.unit = profile.profile.mass_unit || "kg";
    state.weekStart = weekStartOf(execution.day, profile.profile.first_day_of_week);
    // the week's plan, from the list (a missing plan is no error to log)
    const plans = await api(`${base()}/plans`);
    const plan = plans.find((p) => p.week_start === state.weekStart) || null;
    if (gen !== generation) return;
    const history = plan ? await api(`${base()}/plans/${state.weekStart}/history`) : [];
    if (gen !== generation) return;
    state.plan = plan;
    state.goals = goals;
    state.readiness = readiness;
    const active = goals.filter((g) => g.status === "active");
    const week = sessions.filter((s) => s.started_at && s.started_at.slice(0, 10) >= state.weekStart);
    const doneBy = new Map(loadView.sessions.filter((s) => s.planned_session_id)
      .map((s) => [s.planned_session_id, s]));
    $("title").textContent = `This week · ${TL.athleteName(profile)}`;
    $("week-label").textContent = `Week of ${weekday(state.weekStart)}`;
    $("ci-mass-unit").textContent = state.unit;
    drawSteps(active, plan, week);
    drawSlots(plan, active, doneBy, execution);
    drawHistory(plan, history);
    drawReadiness(readiness, plan, active);
    drawExecution(execution);
    drawGoals(goalsView.goals);
    drawCustomMetrics(active);
    drawReview(plan, execution, goalsView.goals, week, doneBy, history);
    state.loads += 1;
  }

  async function reload() {
    const gen = generation;
    try {
      await load(null, gen);
    } catch (err) {
      if (err.status !== 401) say(`Could not load the week: ${err.message}`);
    }
  }

  // ------------------------------------------------------------------ drawing

  function drawSteps(active, plan, week) {
    const steps = [["step-objective", active.length > 0], ["step-plan", plan !== null],
      ["step-session", week.length > 0]];
    for (const [id, done] of steps) {
      $(id).classList.toggle("done", done);
      $(id).dataset.done = done ? "yes" : "no";
    }
    $("start").hidden = steps.every(([, done]) => done);
  }

  /** As the execution view judges a slot of this week on ``today``: missed once its day has
   * passed (a slot without a day is due all week), not while its day lasts. */
  function slotStatus(slot, doneBy, today) {
    if (slot.cancelled) return "cancelled";
    if (doneBy.has(slot.planned_session_id)) return "done";
    if (!slot.day || slot.day < today) return "missed";
    return "planned";
  }

  function drawSlots(plan, active, doneBy, execution) {
    const holder = $("slots");
    $("week-empty").hidden = plan !== null;
    $("plan-form").hidden = plan !== null || state.readonly;
    if (!plan) {
      holder.replaceChildren();
      return;
    }
    const titles = new Map(state.goals.map((g) => [g.goal_id, g.title]));
    const slots = [...plan.sessions].sort((a, b) => (a.day || "9").localeCompare(b.day || "9"));
    holder.replaceChildren(...slots.map((slot, i) => {
      const status = slotStatus(slot, doneBy, execution.day);
      const role = slot.converted ? "training (converted)" : slot.role;
      const objective = slot.objective_id ? titles.get(slot.objective_id) || "objective" :
        (slot.role === "training" ? "no objective: it will count as a workout" : "adds work");
      const head = el("span", { class: "slot-head" },
        el("strong", {}, `${slot.day ? weekday(slot.day) : `Session ${i + 1}`} · ${role}`),
        el("span", { class: "slot-sub" }, slot.title ? `${slot.title} · ${objective}` : objective));
      const li = el("li", { class: `slot ${status}`, "data-slot": slot.planned_session_id,
        "data-status": status, "data-role": slot.role });
      // a slot not done yet can still be started this week, even one execution counts missed
      if ((status === "planned" || status === "missed") && !state.readonly) {
        li.append(el("a", { class: "slot-start", href:
          `/log?slot=${encodeURIComponent(slot.planned_session_id)}` +
          `&week=${state.weekStart}` }, head, el("span", { class: "go" },
          status === "missed" ? "Not done yet · Start ›" : "Start ›")));
        li.append(changeForm(slot, active), cancelForm(slot));
      } else {
        li.append(el("div", { class: "slot-start" }, head,
          el("span", { class: `badge ${status}` }, status)));
      }
      return li;
    }));
  }

  /** The week's days, for the day picker: [iso, label]. */
  function weekDays() {
    const start = new Date(`${state.weekStart}T00:00:00Z`);
    return [...Array(7).keys()].map((i) => {
      const d = new Date(start);
      d.setUTCDate(d.getUTCDate() + i);
      const iso = d.toISOString().slice(0, 10);
      return [iso, weekday(iso)];
    });
  }

  /** Move a slot, retitle it, change its sport or objective: one plan event per change. */
  function changeForm(slot, active) {
    const id = (name) => `${name}-${slot.planned_session_id}`;
    const option = (value, label, current) => el("option",
      { value, selected: value === (current || "") }, label);
    const day = el("select", { id: id("day") }, option("", "No day (any day this week)", slot.day),
      ...weekDays().map(([iso, label]) => option(iso, label, slot.day)));
    const title = el("input", { id: id("title"), type: "text", maxlength: "200",
      autocomplete: "off", value: slot.title || "", placeholder: slot.role });
    const sport = el("input", { id: id("sport"), type: "text", maxlength: "60",
      autocomplete: "off", value: slot.sport || "", list: "sports",
      placeholder: "any sport" });
    const fields = [el("label", { for: id("day") }, "Day"), day,
      el("label", { for: id("title") }, "Title"), title,
      el("label", { for: id("sport") }, "Sport"), sport];
    let objective = null;
    if (slot.role === "training") {
      objective = el("select", { id: id("objective") },
        ...(slot.converted ? [] : [option("", "No objective (counts as a workout)",
          slot.objective_id)]),
        ...active.map((g) => option(g.goal_id, g.title, slot.objective_id)));
      fields.push(el("label", { for: id("objective") }, "Objective"), objective);
    }
    const form = el("form", { class: "cancel-form change-form" }, ...fields,
      el("button", { type: "submit", class: "primary" }, "Save the changes"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const now = { day: day.value || null, title: title.value.trim() || null,
        sport: sport.value.trim() || null };
      if (objective) now.objective_id = objective.value || null;
      const changes = Object.fromEntries(Object.entries(now).filter(
        ([k, v]) => v !== (slot[k] ?? null)));
      if (!Object.keys(changes).length) {
        say("Nothing to change.");
        return;
      }
      await act(`${base()}/plans/${state.weekStart}/sessions/` +
        `${encodeURIComponent(slot.planned_session_id)}`, changes, "Session changed.", "PATCH");
    });
    return el("details", { class: "cancel change" }, el("summary", {}, "Move or change"), form);
  }

  const CHANGES = {
    SessionMoved: (p) => `moved to ${p.day ? weekday(p.day) : "no set day"}`,
    SessionRetitled: (p) => (p.title ? `retitled “${p.title}”` : "title removed"),
    SessionSportChanged: (p) => (p.sport ? `sport: ${p.sport}` : "any sport"),
    SessionObjectiveChanged: (p, titles) => (p.objective_id ?
      `now for “${titles.get(p.objective_id) || "an objective"}”` : "objective removed"),
    SessionCancelled: (p) => `cancelled${p.reason ? ` — ${p.reason}` : ""}`,
    VolumeSessionConverted: (p, titles) => `converted to training for ` +
      `“${titles.get(p.objective_id) || "an objective"}”`,
    SessionAdded: () => "added",
  };

  /** The week's plan events that changed a session, newest last. */
  function drawHistory(plan, events) {
    const titles = new Map(state.goals.map((g) => [g.goal_id, g.title]));
    const names = new Map((plan ? plan.sessions : []).map((s) => [s.planned_session_id,
      s.title || s.role]));
    const shown = events.filter((e) => CHANGES[e.type]);
    $("history").hidden = shown.length === 0;
    $("plan-history").replaceChildren(...shown.map((e) => {
      const slotId = e.payload.planned_session_id || (e.payload.slot || {}).planned_session_id;
      return el("li", { "data-type": e.type, "data-slot": slotId },
        `${e.recorded_at.slice(0, 10)} · ${names.get(slotId) || "session"}: ` +
        CHANGES[e.type](e.payload, titles));
    }));
  }

  function cancelForm(slot) {
    const id = `cancel-${slot.planned_session_id}`;
    const input = el("input", { id, type: "text", maxlength: "2000", required: true,
      placeholder: "e.g. travelling for work" });
    const form = el("form", { class: "cancel-form" },
      el("label", { for: id }, "Reason"), input,
      el("button", { type: "submit" }, "Cancel this session"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await act(`${base()}/plans/${state.weekStart}/sessions/` +
        `${encodeURIComponent(slot.planned_session_id)}/cancel`, { reason: input.value.trim() },
      "Session cancelled.");
    });
    return el("details", { class: "cancel" }, el("summary", {}, "Can't do it?"), form);
  }

  function drawReadiness(readiness, plan, active) {
    TLReadiness.draw(readiness);
    const rec = readiness.recommended;
    const volume = rec && rec.planned_session_id;
    // convert only when the verdict is ready, there is a volume session to convert, and an
    // objective to give it
    const offer = readiness.verdict === "ready" && volume && !state.readonly;
    $("convert-form").hidden = !offer;
    if (!offer) return;
    const select = $("convert-objective");
    select.replaceChildren(el("option", { value: "" }, "Choose an objective…"),
      ...active.map((g) => el("option", { value: g.goal_id }, g.title)));
    select.dataset.slot = rec.planned_session_id;
    select.dataset.week = rec.week_start;
  }

  function drawExecution(execution) {
    const row = execution.weeks.find((w) => w.week_start === state.weekStart);
    $("execution-summary").textContent = row ?
      `Due so far: ${row.planned} · done ${row.completed} · training done as training ` +
      `${row.training_done} of ${row.training_planned}` +
      (row.missed.length ? ` · missed: ${row.missed.join(", ")}` : "") :
      "No plan this week, so nothing is due.";
    const done = execution.sessions.filter((s) => s.day >= state.weekStart);
    $("executed").replaceChildren(...done.map((s) => el("li", {
      "data-session": s.session_id, "data-classification": s.classification },
    el("strong", {}, `${weekday(s.day)}: ${s.classification}`),
    ` (${s.planned_role || "unplanned"}) — ${s.reason}`)));
    $("execution-empty").hidden = done.length > 0;
  }

  function goalCard(g) {
    const percent = g.percent == null ? "–" : `${fmt(g.percent, 0)}%`;
    const trend = g.slope_per_day == null ? "no trend yet" :
      `trend ${g.slope_per_day >= 0 ? "+" : ""}${figure(g.slope_per_day * 7, g)} a week`;
    const card = el("article", { class: "goal-card", "data-goal": g.goal_id,
      "data-progress": g.progress || "" },
    el("h3", {}, g.title),
    el("p", { class: "big-figure" }, percent, el("span", { class: "hint" }, " of the way")),
    el("p", {}, `now ${figure(g.current_value, g)} · target ${figure(g.target_value, g)}`),
    el("p", { class: "hint" }, [trend,
      g.projected_date ? `projected ${g.projected_date}` : "no projected date",
      g.deadline ? `deadline ${g.deadline}` : "no deadline"].join(" · ")),
    g.progress ? el("p", { class: g.progress === "off track" ? "fail" : "pass" },
      g.progress) : el("p", { class: "hint" }, "Log values to see progress."));
    if (!state.readonly && g.status === "active") {
      const row = el("div", { class: "row" });
      if (g.progress === "reached") {
        const raise = el("button", { type: "button", class: "primary raise" },
          "Reached — raise it?");
        raise.addEventListener("click", () => edit(g, true));
        row.append(raise);
      }
      const change = el("button", { type: "button", class: "edit" }, "Edit");
      change.addEventListener("click", () => edit(g, false));
      row.append(change);
      card.append(row);
    }
    return card;
  }

  function drawGoals(list) {
    const shown = list.filter((g) => g.status === "active" || g.status === "achieved");
    $("goal-cards").replaceChildren(...shown.map(goalCard));
    $("goals-empty").hidden = shown.length > 0;
    $("goal-form").hidden = state.readonly;
    $("checkin-form").hidden = state.readonly;
  }

  /** The check-in offers the custom metrics of the active objectives. */
  function drawCustomMetrics(active) {
    const names = [...new Set(active.filter((g) => g.metric && g.metric.kind === "custom")
      .map((g) => g.metric.name))];
    $("custom-metrics").replaceChildren(...names.map((n) => el("option", { value: n })));
    $("ci-custom-hint").textContent = names.length ?
      `Your objectives' metrics: ${names.join(", ")}.` :
      "A metric of your own: set an objective measured by it below to follow it there.";
  }

  function drawReview(plan, execution, goals, week, doneBy, history) {
    const row = execution.weeks.find((w) => w.week_start === state.weekStart);
    const body = [];
    if (!plan) {
      body.push(el("p", { class: "empty-next" }, "Plan the week to review it here."));
    } else {
      // why a session was cancelled is on its plan event
      const reasons = new Map(history.filter((e) => e.type === "SessionCancelled")
        .map((e) => [e.payload.planned_session_id, e.payload.reason]));
      body.push(el("h3", {}, "Planned vs done"));
      body.push(el("ul", { class: "plain" }, ...plan.sessions.map((s) => {
        const label = s.title || s.role;
        const status = slotStatus(s, doneBy, execution.day);
        const done = doneBy.has(s.planned_session_id) && execution.sessions.find(
          (x) => x.session_id === doneBy.get(s.planned_session_id).session_id);
        const why = status === "cancelled" ? `cancelled${reasons.get(s.planned_session_id) ?
          ` — ${reasons.get(s.planned_session_id)}` : ""}` :
          status === "done" ? `done${done ? ` as ${done.classification}` : ""}` :
          status === "missed" ? "missed" : "not due yet";
        return el("li", { "data-slot": s.planned_session_id, "data-status": status },
          `${label}${s.converted ? " (converted)" : ""}${s.day ? ` (${weekday(s.day)})` : ""}` +
          `: ${why}`);
      })));
      const classified = execution.sessions.filter((s) => s.day >= state.weekStart);
      body.push(el("ul", { class: "plain" }, ...classified.map((s) => el("li", {},
        `${weekday(s.day)}: ${s.classification} — ${s.reason}`))));
    }
    body.push(el("h3", {}, "Objectives"));
    body.push(goals.length ? el("ul", { class: "plain" }, ...goals.map((g) => el("li", {},
      `${g.title}: ${g.percent == null ? "no values yet" : `${fmt(g.percent, 0)}%`}` +
      (g.progress ? `, ${g.progress}` : "")))) :
      el("p", { class: "empty-next" }, "Set an objective to follow its progress."));
    body.push(el("h3", {}, "Notes"));
    const notes = week.filter((s) => s.notes);
    body.push(notes.length ? el("ul", { class: "plain" }, ...notes.map((s) => el("li", {},
      `${weekday(s.started_at.slice(0, 10))}${s.title ? ` ${s.title}` : ""}: ${s.notes}`))) :
      el("p", { class: "hint" }, "No session notes this week."));
    body.push(el("h3", {}, "Comments"));
    const comments = plan ? plan.comments || [] : [];
    body.push(comments.length ? el("ul", { class: "plain comments" }, ...comments.map((c) =>
      el("li", { "data-by": c.by.kind }, el("strong", {}, `${c.by.kind} · ${c.at.slice(0, 10)}: `),
        c.text))) : el("p", { class: "hint" }, plan ?
      "No comment on this week yet." : "Comments come with the week's plan."));
    if (plan) body.push(commentForm());
    $("review-body").replaceChildren(...body);
  }

  /** The athlete and their coaches comment on the week (coaches too: it is their review). */
  function commentForm() {
    const text = el("textarea", { id: "review-comment", rows: "2", maxlength: "4000",
      required: true, placeholder: "How did the week go?" });
    const form = el("form", { class: "cancel-form", id: "comment-form" },
      el("label", { for: "review-comment" }, "Comment on the week"), text,
      el("button", { type: "submit", class: "primary", id: "comment-save" }, "Comment"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await act(`${base()}/plans/${state.weekStart}/comments`, { text: text.value.trim() },
        "Comment added.");
    });
    return form;
  }

  // ------------------------------------------------------------------ writing

  async function act(path, body, done, method = "POST") {
    say("Saving…");
    try {
      await write(path, body, method);
      say(done);
    } catch (err) {
      say(`Not saved: ${err.message}`);
      return false;
    }
    await reload();
    return true;
  }

  function edit(goal, raise) {
    $("g-id").value = goal.goal_id;
    $("goal-form-title").textContent = raise ? "Raise the target" : "Edit the objective";
    $("g-title").value = goal.title;
    const show = (v) => (goal.unit === "kg" && state.unit === "lb" ? +(v / LB).toFixed(1) : v);
    $("g-target").value = show(goal.target_value);
    $("g-unit").value = goal.unit === "kg" ? state.unit : goal.unit;
    $("g-deadline").value = goal.deadline || "";
    $("g-metric-fields").hidden = true;
    $("goal-cancel").hidden = false;
    $("g-target").focus();
  }

  function resetGoalForm() {
    $("goal-form").reset();
    $("g-id").value = "";
    $("goal-form-title").textContent = "New objective";
    $("g-metric-fields").hidden = false;
    $("goal-cancel").hidden = true;
    $("goal-error").textContent = "";
  }

  async function saveGoal(event) {
    event.preventDefault();
    const id = $("g-id").value;
    const kind = $("g-kind").value;
    let target = Number($("g-target").value);
    let unit = $("g-unit").value.trim();
    const existing = state.goals.find((g) => g.goal_id === id);
    const inKg = existing ? existing.unit === "kg" : MASS_KINDS.has(kind);
    if (inKg) {  // entered in the athlete's unit, stored in kg
      if (state.unit === "lb") target = Math.round(target * LB * 1000) / 1000;
      unit = "kg";
    }
    const deadline = $("g-deadline").value || null;
    const body = { title: $("g-title").value.trim(), target_value: target, deadline };
    let path = `${base()}/goals`, method = "POST";
    if (id) {
      path = `/goals/${encodeURIComponent(id)}`;
      method = "PATCH";
    } else {
      const name = $("g-metric").value.trim();
      body.metric = kind === "custom" ? { kind, name } :
        kind === "e1rm" ? { kind, exercise_id: name } : { kind };
      body.direction = $("g-direction").value;
      body.unit = kind === "weekly_training_sessions" ? "sessions" : unit;
    }
    $("goal-error").textContent = "";
    try {
      await write(path, body, method);
    } catch (err) {
      $("goal-error").textContent = `Not saved: ${err.message}`;
      return;
    }
    say(id ? "Objective updated." : "Objective set.");
    resetGoalForm();
    await reload();
  }

  async function planWeek(event) {
    event.preventDefault();
    const active = state.goals.filter((g) => g.status === "active").map((g) => g.goal_id);
    const ids = active.length ? [0, 1, 2].map((i) => active[i % active.length]) : null;
    await act(`${base()}/plans`, { week_start: state.weekStart, objective_ids: ids },
      "This week is planned.");
  }

  async function convert(event) {
    event.preventDefault();
    const select = $("convert-objective");
    if (!select.value) {
      say("Choose the objective the converted session trains for.");
      return;
    }
    await act(`${base()}/plans/${select.dataset.week}/sessions/` +
      `${encodeURIComponent(select.dataset.slot)}/convert`, { objective_id: select.value },
    "Converted: the volume session is now a training session.");
  }

  async function checkIn(event) {
    event.preventDefault();
    const at = new Date().toISOString();
    const custom = $("ci-custom-name").value.trim();
    const customGoal = state.goals.find((g) => g.metric && g.metric.name === custom);
    const fields = [
      ["ci-sleep", "sleep_hours", "h"], ["ci-deep", "deep_work_hours", "h"],
      ["ci-mass", "body_mass", state.unit], ["ci-rhr", "resting_hr", "bpm"],
      ["ci-hrv", "hrv_rmssd", "ms"],
      ["ci-custom-value", custom, (customGoal && customGoal.unit) || "units"],
    ].filter(([id, metric]) => metric && $(id).value !== "");
    if (!fields.length) {
      $("checkin-result").textContent = "Fill in at least one value.";
      return;
    }
    const saved = [];
    for (const [id, metric, unit] of fields) {
      try {
        await write(`${base()}/observations`, { metric, value: Number($(id).value), unit,
          observed_at: at });
        saved.push(metric.replace(/_/g, " "));
        $(id).value = "";
      } catch (err) {
        $("checkin-result").textContent = `${metric.replace(/_/g, " ")} not saved: ` +
          `${err.message}`;
        return;
      }
    }
    $("checkin-result").textContent = `Checked in: ${saved.join(", ")}.`;
    await reload();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("goal-form").addEventListener("submit", saveGoal);
    $("goal-cancel").addEventListener("click", resetGoalForm);
    $("plan-form").addEventListener("submit", planWeek);
    $("convert-form").addEventListener("submit", convert);
    $("checkin-form").addEventListener("submit", checkIn);
    $("g-kind").addEventListener("change", () => {
      const kind = $("g-kind").value;
      $("g-metric-label").textContent = kind === "e1rm" ? "Exercise id" : "Metric name";
      $("g-metric").disabled = kind !== "custom" && kind !== "e1rm";
      $("g-unit").value = MASS_KINDS.has(kind) ? state.unit : "";
    });
    TL.start({
      stop: () => { generation += 1; },
      ready: ({ me, athlete }) => {
        generation += 1;
        state.athleteId = athlete.athlete_id;
        state.readonly = me.role === "coach";
        say("Loading…");
        reload().then(() => { if (state.loads) say(""); });
      },
    });
  });
})();
