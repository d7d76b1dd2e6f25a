// trainledger gym page: start a planned or ad-hoc session, log, edit and delete sets (offline
// too), rest between them, end with the real times, and see the summary with the PRs.
"use strict";

(() => {
  const { api, write, el, fmt, $ } = TL;
  const SESSION_KEY = "trainledger.session";
  const REST_KEY = "trainledger.restSeconds";
  const LB = 0.45359237;
  const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
  const RECORD_NAMES = { e1rm_kg: "e1RM", heaviest_kg: "heaviest", set_volume_kg: "set volume" };

  const state = {
    athlete: null, unit: "kg", sessions: [], plan: null, goals: new Map(), active: null,
    exercise: null, editing: null, names: new Map(), known: new Map(), searchTimer: null,
    searchSeq: 0,
    found: [], prs: [], rest: { until: 0, timer: null },
  };
  window.trainledgerLog = state;

  const base = () => `/athletes/${encodeURIComponent(state.athlete.athlete_id)}`;
  const tz = () => state.athlete.profile.timezone || "UTC";
  const today = () => TL.localDay(new Date(), tz());
  const fromKg = (kg) => (kg == null ? null :
    Math.round((state.unit === "lb" ? kg / LB : kg) * 100) / 100);
  const time = (iso) => new Date(iso).toLocaleTimeString([], {
    timeZone: tz(), hour: "2-digit", minute: "2-digit" });
  const number = (id) => ($(id).value.trim() === "" ? null : Number($(id).value));
  /** "HH:MM" of today (or ``day``) in the athlete's zone, as the API reads a time without
   * offset. */
  const localMoment = (hhmm, day = today()) => `${day}T${hhmm}:00`;
  /** A moment as "HH:MM" (24 h) in the athlete's zone, for a time input. */
  const hhmm = (iso) => (iso ? new Date(iso).toLocaleTimeString("en-GB", {
    timeZone: tz(), hour: "2-digit", minute: "2-digit", hourCycle: "h23" }) : "");

  function say(text) { $("message").textContent = text; }

  function toast(text) {
    const box = $("toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(box.timer);
    box.timer = setTimeout(() => { box.hidden = true; }, 6000);
  }

  /** An exercise's name: the athlete's custom ones, else the catalogue (cached). */
  function nameOf(id) {
    if (!state.names.has(id)) {
      const custom = state.athlete.custom_exercises[id];
      state.names.set(id, (custom ? Promise.resolve(custom.name) :
        api(`/exercises/${encodeURIComponent(id)}`).then((e) => e.name, () => id))
        .then((name) => { state.known.set(id, name); return name; }));
    }
    return state.names.get(id);
  }

  function describeSet(s) {
    const parts = [];
    if (s.reps != null) parts.push(`${s.reps}`);
    if (s.load_kg != null) parts.push(`${fmt(fromKg(s.load_kg), 2)} ${state.unit}`);  // 62.5 kg
    let text = parts.join(" × ") || "set";
    if (s.rpe != null) text += ` @ RPE ${fmt(s.rpe)}`;
    if (s.set_type === "warmup") text += " (warm-up)";
    return text;
  }

  async function loadSessions() {
    state.sessions = await api(`${base()}/sessions?limit=50`);
  }

  /** The first day of this week, in the athlete's weeks. */
  function weekStart() {
    const day = new Date(`${today()}T00:00:00Z`);
    const first = DAYS.indexOf(state.athlete.profile.first_day_of_week || "monday");
    day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() - first + 7) % 7));
    return day.toISOString().slice(0, 10);
  }

  async function loadPlan() {
    state.plan = null;
    try {  // the list, not /plans/{week}: an unplanned week is no error for the browser
      const week = weekStart();
      state.plan = (await api(`${base()}/plans`)).find((p) => p.week_start === week) || null;
      const goals = state.plan ? await api(`${base()}/goals`) : [];
      state.goals = new Map(goals.map((g) => [g.goal_id, g.title]));
    } catch (err) {
      say(`Could not read this week's plan: ${err.message}`);
    }
  }

  // ------------------------------------------------------------------ picking a session

  function replaceSession(session) {
    state.sessions = [session, ...state.sessions.filter((s) => s.session_id !== session.session_id)];
    if (state.active && state.active.session_id === session.session_id) state.active = session;
  }

  /** This week's slots not done nor cancelled: today's first, then undated, then others. */
  function openSlots() {
    if (!state.plan) return [];
    const done = new Set(state.sessions.map((s) => s.planned_session_id).filter(Boolean));
    const rank = (slot) => (slot.day === today() ? 0 : slot.day ? 2 : 1);
    return state.plan.sessions
      .filter((slot) => !slot.cancelled && !done.has(slot.planned_session_id))
      .sort((a, b) => rank(a) - rank(b));
  }

  function slotLabel(slot) {
    const kind = slot.role === "training" ? "Training" : "Volume";
    const when = slot.day === today() ? "today" : slot.day ? `planned ${TL.dayLabel(slot.day)}`
      : "this week";
    const goal = slot.objective_id && state.goals.get(slot.objective_id);
    return [slot.title || kind, slot.title ? kind.toLowerCase() : null, when,
      goal ? `for “${goal}”` : null].filter(Boolean).join(" · ");
  }

  function showPick() {
    state.active = null;
    sessionStorage.removeItem(SESSION_KEY);
    stopRest();
    for (const id of ["active", "summary"]) $(id).hidden = true;
    $("pick").hidden = false;
    const slots = openSlots();
    $("plan-slots").replaceChildren(...(slots.length ? [el("h2", {}, "Planned this week")] :
      [el("p", { class: "hint" }, state.plan ? "Every planned session of this week is done." :
        "No plan for this week yet: start a session below.")]),
    ...slots.map((slot) => {
      const button = el("button", { type: "button", class: "big slot",
        "data-slot": slot.planned_session_id }, `Start: ${slotLabel(slot)}`);
      button.addEventListener("click", () => startSession(null, slot));
      return button;
    }));
    const mine = state.sessions.filter((s) => TL.localDay(new Date(s.started_at), tz()) === today());
    const list = (title, sessions) => (sessions.length ? [el("h2", {}, title), ...sessions.map((s) => {
      const button = el("button", { type: "button", class: "big" },
        `${s.title || "Session"} · started ${time(s.started_at)} · ${s.sets.length} sets`);
      button.addEventListener("click", () => showActive(s));
      return button;
    })] : []);
    $("open-sessions").replaceChildren(...list("Continue", mine.filter((s) => s.status === "open")));
    $("ended-today").replaceChildren(...list("Ended today (add or fix sets)",
      mine.filter((s) => s.status === "ended")));
  }

  async function startSession(event, slot = null) {
    if (event) event.preventDefault();
    const at = $("start-time").value;
    const body = { started_at: at ? localMoment(at) : new Date().toISOString() };
    if (slot) Object.assign(body, { planned_session_id: slot.planned_session_id,
      title: slot.title || null });
    else Object.assign(body, { planned_role: document.querySelector("input[name=role]:checked").value,
      title: $("start-title").value.trim() || null });
    $("start").disabled = true;
    try {
      const session = await write(`${base()}/sessions`, body);
      replaceSession(session);
      $("start-title").value = "";
      $("start-time").value = "";
      say(`Session started at ${time(session.started_at)}.`);
      showActive(session);
    } catch (err) {
      say(`Could not start the session: ${err.message}`);
    } finally {
      $("start").disabled = false;
    }
  }

  // ------------------------------------------------------------------ the active session

  function showActive(session) {
    state.active = session;
    state.prs = [];
    sessionStorage.setItem(SESSION_KEY, session.session_id);
    for (const id of ["pick", "summary"]) $(id).hidden = true;
    $("active").hidden = false;
    const ended = session.status === "ended";
    $("h-active").textContent = `${session.title || "Session"}${ended ? " (ended)" : ""}`;
    $("end-form").hidden = ended;
    fillDetails(session);
    renderPrescription(session);
    cancelEdit();
    renderSets();
    renderRecent();
    $("exercise-q").focus();
  }

  /** "3:00" from seconds. */
  const clock = (s) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`;
  const TARGET_TEXT = {
    heart_rate: (t) => `HR ${t.low}–${t.high} bpm`,
    pace: (t) => `pace ${clock(t.low)}–${clock(t.high)} /km`,
    power: (t) => `${t.low}–${t.high} W`,
  };

  /** One prescribed step as a line; a strength step's button picks its exercise, reps and
   * load for the next set. */
  function prescribedStep(step) {
    if (step.kind === "endurance") {
      const amount = step.duration_s != null ? `${clock(step.duration_s)} min` :
        `${fmt(step.distance_m / 1000, 2)} km`;
      const target = step.target ? ` @ ${TARGET_TEXT[step.target.type](step.target)}` : "";
      const kind = step.intensity && step.intensity !== "active" ? ` (${step.intensity})` : "";
      return el("li", {}, `${step.name ? `${step.name}: ` : ""}${amount}${target}${kind}`);
    }
    const load = step.load_kg != null ? ` @ ${fmt(fromKg(step.load_kg))} ${state.unit}` : "";
    const rest = step.rest_s != null ? `, rest ${clock(step.rest_s)}` : "";
    const done = state.active.sets.filter((x) => x.exercise_id === step.exercise_id &&
      x.set_type !== "warmup").length;
    const name = el("strong", {}, state.known.get(step.exercise_id) ||
      step.exercise_id.replace(/[._]/g, " "));  // until named
    nameOf(step.exercise_id).then((n) => { name.textContent = n; });
    const use = el("button", { type: "button", class: "small",
      "aria-label": "Log this step's next set" }, "Log it");
    use.addEventListener("click", async () => {
      choose({ id: step.exercise_id, name: await nameOf(step.exercise_id) }, { keepNumbers: true });
      fill({ reps: step.reps, load_kg: step.load_kg ?? null, rpe: null });
      $("reps").focus();
    });
    return el("li", {}, el("span", { class: "what" }, name,
      ` ${step.sets} × ${step.reps}${load}${rest} · ${done} of ${step.sets} done`),
    el("span", { class: "actions" }, use));
  }

  /** The planned slot's prescription (the plan API's ``prescription``), when it has one. */
  function renderPrescription(session) {
    const slot = state.plan && session.planned_session_id &&
      state.plan.sessions.find((x) => x.planned_session_id === session.planned_session_id);
    const steps = (slot && slot.prescription) || [];
    $("prescription").hidden = steps.length === 0;
    $("prescription-steps").replaceChildren(...steps.map(prescribedStep));
  }

  function renderFacts() {
    const s = state.active;
    const count = s.sets.length + TLQueue.forSession(s.session_id).length;
    const parts = [`Started ${time(s.started_at)}`, s.planned_role,
      `${count} ${count === 1 ? "set" : "sets"}`];
    if (s.status === "ended") parts.push(`${fmt(s.duration_min, 0)} min`);
    $("session-facts").textContent = parts.join(" · ");
  }

  function setItem(s, pending) {
    const what = el("span", { class: "what" }, el("span", { class: "ex" }, s.exercise_id),
      " ", el("span", {}, describeSet(s)));
    nameOf(s.exercise_id).then((name) => { what.firstChild.textContent = name; });
    const item = el("li", { "data-set-id": pending ? null : s.set_id,
      "data-pending": pending ? "true" : null, class: pending ? "pending" : null }, what);
    const actions = el("span", { class: "actions" });
    if (pending) {
      actions.append(el("span", { class: "badge" }, "pending: not sent yet"));
      const drop = el("button", { type: "button", class: "small" }, "Delete");
      drop.addEventListener("click", () => {
        TLQueue.remove(pending);
        renderSets();
      });
      actions.append(drop);
    } else {
      const edit = el("button", { type: "button", class: "small edit",
        "aria-label": "Edit this set" }, "Edit");
      edit.addEventListener("click", () => startEdit(s));
      const drop = el("button", { type: "button", class: "small delete",
        "aria-label": "Delete this set" }, "Delete");
      drop.addEventListener("click", () => deleteSet(s));
      actions.append(edit, drop);
    }
    item.append(actions);
    return item;
  }

  function renderSets() {
    renderFacts();
    renderPrescription(state.active);
    const pending = TLQueue.forSession(state.active.session_id).map(
      (p) => setItem({ ...p.body, load_kg: p.body.load == null ? null :
        p.body.load * (p.body.load_unit === "lb" ? LB : 1) }, p.key));
    $("sets").replaceChildren(...state.active.sets.map((s) => setItem(s, null)), ...pending);
  }

  /** Recent exercises: this session's first, then the last sessions'. */
  function renderRecent() {
    const ids = [];
    const sessions = [state.active, ...state.sessions.filter(
      (s) => s.session_id !== state.active.session_id)].slice(0, 12);
    for (const s of sessions) {
      for (const set of [...s.sets].reverse()) {
        if (!ids.includes(set.exercise_id)) ids.push(set.exercise_id);
      }
    }
    $("recent").replaceChildren(...ids.slice(0, 8).map((id) => {
      const chip = el("button", { type: "button", class: "chip", "data-exercise": id }, id);
      nameOf(id).then((name) => { chip.textContent = name; });
      chip.addEventListener("click", async () => choose({ id, name: await nameOf(id) }));
      return chip;
    }));
  }

  /** The sets of the latest earlier session with this exercise, and its day. */
  function lastTime(exerciseId) {
    for (const s of state.sessions) {
      if (state.active && s.session_id === state.active.session_id) continue;
      const sets = s.sets.filter((x) => x.exercise_id === exerciseId);
      if (sets.length) return { day: TL.localDay(new Date(s.started_at), tz()), sets };
    }
    return null;
  }

  function fill(template) {
    $("reps").value = template.reps ?? "";
    $("load").value = fromKg(template.load_kg) ?? "";
    $("rpe").value = template.rpe ?? "";
  }

  function choose(exercise, { keepNumbers = false } = {}) {
    state.exercise = exercise;
    state.names.set(exercise.id, Promise.resolve(exercise.name));
    state.known.set(exercise.id, exercise.name);
    $("exercise-chosen").replaceChildren("Exercise: ", el("strong", {}, exercise.name));
    $("exercise-results").replaceChildren();
    $("exercise-q").value = "";
    const last = lastTime(exercise.id);
    $("last-time").replaceChildren(...(last ? [
      el("span", { class: "label" }, `Last time (${TL.dayLabel(last.day)}): `),
      last.sets.map(describeSet).join(", ")] : ["First time: no sets of it in earlier sessions."]));
    if (keepNumbers) return;
    const here = state.active.sets.filter((x) => x.exercise_id === exercise.id);
    const template = here[here.length - 1] ||
      (last && (last.sets.find((x) => x.set_type !== "warmup") || last.sets[0]));
    if (template) fill(template);
    $("reps").focus();
  }

  async function runSearch(q, seq) {
    let found;
    try {
      found = await api(`/exercises?q=${encodeURIComponent(q)}&limit=8` +
        `&athlete_id=${encodeURIComponent(state.athlete.athlete_id)}`);
    } catch (err) {
      say(`Search failed: ${err.message}`);
      return null;
    }
    if (seq !== state.searchSeq) return null;
    state.found = found;
    $("exercise-results").replaceChildren(...(found.length ? found.map((e) => {
      const button = el("button", { type: "button", class: "match", "data-exercise": e.id },
        el("span", {}, e.name), el("span", { class: "cat" }, e.category.replace(/_/g, " ")));
      button.addEventListener("click", () => choose({ id: e.id, name: e.name }));
      return el("li", {}, button);
    }) : [el("li", { class: "hint" }, "No exercise matches.")]));
    return found;
  }

  function search() {
    clearTimeout(state.searchTimer);
    const q = $("exercise-q").value.trim();
    const seq = ++state.searchSeq;
    state.found = [];
    if (!q) {
      $("exercise-results").replaceChildren();
      return;
    }
    state.searchTimer = setTimeout(() => runSearch(q, seq), 200);
  }

  /** Enter picks the best match (the athlete's usual variant), searching now if needed. */
  async function pickFirst(event) {
    if (event.key !== "Enter") return;
    event.preventDefault();  // Enter picks an exercise instead of logging a set
    const q = $("exercise-q").value.trim();
    if (!q) return;
    clearTimeout(state.searchTimer);
    const found = state.found.length ? state.found : await runSearch(q, ++state.searchSeq);
    if (found && found.length) choose({ id: found[0].id, name: found[0].name });
  }

  function step(event) {
    const button = event.target.closest("button[data-step]");
    if (!button) return;
    const [field, delta] = button.dataset.step.split(":");
    const input = $(field);
    let amount = Number(delta);
    if (field === "load") amount *= state.unit === "lb" ? 5 : 2.5;
    const value = Math.max(0, (Number(input.value) || 0) + amount);
    input.value = field === "rpe" ? Math.min(10, value) : Math.round(value * 100) / 100;
  }

  /** The set form as a request body, or null after saying what is wrong. */
  function setBody() {
    const error = $("set-error");
    error.textContent = "";
    if (!state.exercise) {
      error.textContent = "Choose an exercise first.";
      $("exercise-q").focus();
      return null;
    }
    const reps = number("reps"), load = number("load"), rpe = number("rpe");
    if (reps === null || !Number.isInteger(reps) || reps < 0) {
      error.textContent = "Reps must be a whole number.";
      $("reps").focus();
      return null;
    }
    const body = { exercise_id: state.exercise.id, reps,
      set_type: $("warmup").checked ? "warmup" : "working" };
    if (load !== null) Object.assign(body, { load, load_unit: state.unit });
    if (rpe !== null) body.rpe = rpe;
    return body;
  }

  function setLogged(sessionId, logged) {
    const session = state.sessions.find((s) => s.session_id === sessionId);
    if (session && !session.sets.some((x) => x.set_id === logged.set.set_id)) {
      session.sets.push(logged.set);
      session.version = logged.session_version;
    }
    if (state.active && state.active.session_id === sessionId) {
      renderSets();
      renderRecent();
    }
    watchForRecord(logged.set);
  }

  async function submitSet(event) {
    event.preventDefault();
    const body = setBody();
    if (!body) return;
    if (state.editing) return saveEdit(body);
    const session = state.active;
    const key = TL.newKey();
    const name = state.exercise.name;
    $("log-set").disabled = true;
    try {
      if (!navigator.onLine) throw new TypeError("offline");
      const logged = await write(`/sessions/${session.session_id}/sets`, body, "POST", key);
      setLogged(session.session_id, logged);
      say(`Logged: ${name}, ${describeSet(logged.set)}.`);
    } catch (err) {
      if (!(err instanceof TypeError)) {
        $("set-error").textContent = `Not logged: ${err.message}`;
        return;
      }
      // no connection: keep it, with its key and the time it was done, and send it later
      const kept = session.status === "open" ? { ...body, performed_at: new Date().toISOString() }
        : body;
      TLQueue.add({ key, sessionId: session.session_id, body: kept, name,
        queuedAt: new Date().toISOString() });
      renderSets();
      say(`No connection: ${name}, ${describeSet(body)} is kept and will be sent when ` +
        "the connection returns.");
    } finally {
      $("log-set").disabled = false;
    }
    $("warmup").checked = false;
    startRest();
  }

  async function flushPending() {
    if (!TLQueue.all().length) return 0;
    const left = await TLQueue.flush({
      sent: (item, logged) => {
        setLogged(item.sessionId, logged);
        say(`Sent: ${item.name}, ${describeSet(logged.set)}.`);
      },
      refused: (item, err) => say(`Refused by the server, dropped: ${item.name} ` +
        `(${err.message}).`),
    });
    if (state.active) renderSets();
    return left;
  }

  // ------------------------------------------------------------------ editing sets

  function startEdit(set) {
    state.editing = set;
    $("h-set-form").textContent = "Edit the set";
    $("log-set").textContent = "Save the set";
    $("cancel-edit").hidden = false;
    nameOf(set.exercise_id).then((name) => choose({ id: set.exercise_id, name },
      { keepNumbers: true }));
    fill(set);
    $("warmup").checked = set.set_type === "warmup";
    $("set-form").scrollIntoView({ block: "start" });
    $("reps").focus();
  }

  function cancelEdit() {
    state.editing = null;
    $("h-set-form").textContent = "Log a set";
    $("log-set").textContent = "Log set";
    $("cancel-edit").hidden = true;
    $("set-error").textContent = "";
  }

  async function saveEdit(body) {
    const { session_id: sid } = state.active;
    const patch = { ...body };
    $("log-set").disabled = true;
    try {
      const session = await write(`/sessions/${sid}/sets/${state.editing.set_id}`, patch, "PATCH");
      replaceSession(session);
      say("Set saved.");
      cancelEdit();
      renderSets();
    } catch (err) {
      $("set-error").textContent = err instanceof TypeError ?
        "No connection: the edit was not saved, try again when online." :
        `Not saved: ${err.message}`;
    } finally {
      $("log-set").disabled = false;
    }
  }

  async function deleteSet(set) {
    const name = await nameOf(set.exercise_id);
    if (!window.confirm(`Delete ${name}, ${describeSet(set)}?`)) return;
    try {
      const session = await api(`/sessions/${state.active.session_id}/sets/` +
        `${encodeURIComponent(set.set_id)}`, { method: "DELETE" });
      replaceSession(session);
      if (state.editing && state.editing.set_id === set.set_id) cancelEdit();
      say(`Deleted: ${name}, ${describeSet(set)}.`);
      renderSets();
    } catch (err) {
      say(err instanceof TypeError ? "No connection: the set was not deleted." :
        `Not deleted: ${err.message}`);
    }
  }

  // ------------------------------------------------------------------ rest timer and PRs

  const restSeconds = () => Number(localStorage.getItem(REST_KEY)) || 120;

  function tickRest() {
    const left = Math.max(0, Math.round((state.rest.until - Date.now()) / 1000));
    $("rest-time").textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    $("rest").dataset.over = left === 0 ? "true" : "false";
    if (left === 0) {
      clearInterval(state.rest.timer);
      state.rest.timer = null;
      if (navigator.vibrate) navigator.vibrate(300);
    }
  }

  function startRest(seconds = restSeconds()) {
    state.rest.until = Date.now() + seconds * 1000;
    $("rest").hidden = false;
    clearInterval(state.rest.timer);
    state.rest.timer = setInterval(tickRest, 250);
    tickRest();
  }

  function adjustRest(delta) {
    const left = Math.max(0, (state.rest.until - Date.now()) / 1000 + delta);
    localStorage.setItem(REST_KEY, String(Math.max(15, restSeconds() + delta)));
    startRest(left);
  }

  function stopRest() {
    clearInterval(state.rest.timer);
    state.rest.timer = null;
    $("rest").hidden = true;
  }

  function recordText(r, name) {
    const kind = r.record.startsWith("most_reps_at_") ?
      `most reps at ${fmt(fromKg(Number(r.record.split("_")[3])), 2)} ${state.unit}` :
      RECORD_NAMES[r.record] || r.record;
    const value = r.record.startsWith("most_reps_at_") ? `${fmt(r.value, 0)} reps` :
      `${fmt(fromKg(r.value), 1)} ${state.unit}`;
    const was = r.previous == null ? "" : r.record.startsWith("most_reps_at_") ?
      ` (was ${fmt(r.previous, 0)})` : ` (was ${fmt(fromKg(r.previous), 1)})`;
    return `${name}: ${kind} ${value}${was}`;
  }

  async function records() {
    return (await api(`${base()}/views/strength`)).records || [];
  }

  /** The strength view names the records a set made once the views took it in: poll a bit. */
  async function watchForRecord(set) {
    if (set.set_type === "warmup" || !set.load_kg) return;
    for (let attempt = 0; attempt < 10; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 700));
      let made;
      try {
        made = (await records()).filter((r) => r.set && r.set.set_id === set.set_id);
      } catch {
        return;
      }
      if (!made.length) continue;
      const best = made.find((r) => r.record === "e1rm_kg") ||
        made.find((r) => r.record === "heaviest_kg") || made[0];
      const name = await nameOf(set.exercise_id);
      for (const r of made) {
        if (!state.prs.some((p) => p.set.set_id === r.set.set_id && p.record === r.record)) {
          state.prs.push(r);
        }
      }
      toast(`New PR! ${recordText(best, name)}`);
      return;
    }
  }

  // ------------------------------------------------------------------ ending and summary

  async function endSession(event) {
    event.preventDefault();
    const error = $("end-error");
    const rpe = number("session-rpe");
    if (rpe === null || rpe < 0 || rpe > 10) {
      error.textContent = "Give the session RPE, from 0 to 10.";
      $("session-rpe").focus();
      return;
    }
    const duration = number("duration");
    if (duration !== null && (duration < 0 || duration > 1440)) {
      error.textContent = "The duration is in minutes, from 0 to 1440.";
      $("duration").focus();
      return;
    }
    error.textContent = "";
    const left = await flushPending();
    if (TLQueue.forSession(state.active.session_id).length) {
      error.textContent = `${left} set(s) still wait for a connection: end the session ` +
        "once they are sent.";
      return;
    }
    const body = { session_rpe: rpe };
    if ($("end-time").value) body.ended_at = localMoment($("end-time").value);
    if (duration !== null) body.duration_min = duration;
    $("end").disabled = true;
    try {
      const ended = await write(`/sessions/${state.active.session_id}/end`, body);
      replaceSession(ended);
      for (const id of ["session-rpe", "end-time", "duration"]) $(id).value = "";
      say(`Session ended: ${ended.sets.length} sets, session RPE ${fmt(rpe)}.`);
      await showSummary(ended);
    } catch (err) {
      error.textContent = err instanceof TypeError ?
        "No connection: the session is not ended yet, try again when online." :
        `Not ended: ${err.message}`;
    } finally {
      $("end").disabled = false;
    }
  }

  /** The times form: the start while open; start, end, duration and RPE once ended. */
  function fillDetails(session) {
    const ended = session.status === "ended";
    for (const node of document.querySelectorAll("#details-form .ended-only")) {
      node.hidden = !ended;
    }
    $("h-details").textContent = ended ? "Times and effort" : "Start time";
    $("edit-start").value = hhmm(session.started_at);
    $("edit-end").value = hhmm(session.ended_at);
    $("edit-duration").value = session.duration_min == null ? "" :
      Math.round(session.duration_min);
    $("edit-rpe").value = session.session_rpe ?? "";
  }

  /** What the times form changes: only the fields that differ from the session. */
  function detailsPatch(s) {
    const patch = {};
    const day = TL.localDay(new Date(s.started_at), tz());
    const start = $("edit-start").value, end = $("edit-end").value;
    if (start && start !== hhmm(s.started_at)) patch.started_at = localMoment(start, day);
    if (s.status !== "ended") return patch;
    if (end && end !== hhmm(s.ended_at)) {  // an end before the start is the next day's
      const next = new Date(`${day}T00:00:00Z`);
      next.setUTCDate(next.getUTCDate() + 1);
      patch.ended_at = localMoment(end, end < (start || hhmm(s.started_at)) ?
        next.toISOString().slice(0, 10) : day);
    }
    const rpe = number("edit-rpe"), duration = number("edit-duration");
    if (rpe !== null && rpe !== s.session_rpe) patch.session_rpe = rpe;
    if (duration !== null && duration !== Math.round(s.duration_min)) {
      patch.duration_min = duration;
    }
    return patch;
  }

  async function saveDetails(event) {
    event.preventDefault();
    const patch = detailsPatch(state.active);
    if (!Object.keys(patch).length) {
      $("details-error").textContent = "Nothing changed.";
      return;
    }
    try {
      const session = await write(`/sessions/${state.active.session_id}`, patch, "PATCH");
      replaceSession(session);
      fillDetails(session);
      $("details-error").textContent = "";
      say(session.status === "ended" ? `Saved: started ${time(session.started_at)}, ` +
        `${fmt(session.duration_min, 0)} min, session RPE ${fmt(session.session_rpe)}.` :
        `Saved: started ${time(session.started_at)}.`);
      renderFacts();
    } catch (err) {
      $("details-error").textContent = `Not saved: ${err.message}`;
    }
  }

  /** The session's kind as the views classify it: training needs an objective. */
  const kindText = (session) => (session.planned_role === "training" && !session.objective_id ?
    "training, without an objective: counts as a workout" : session.planned_role);

  async function showSummary(session) {
    stopRest();
    const working = session.sets.filter((s) => s.set_type !== "warmup");
    const volume = working.reduce((sum, s) => sum + (s.reps || 0) * (s.load_kg || 0), 0);
    const facts = [["Duration", `${fmt(session.duration_min, 0)} min`],
      ["Sets", `${working.length} working, ${session.sets.length - working.length} warm-up`],
      ["Volume", `${fmt(fromKg(volume), 0)} ${state.unit}`],
      ["Session RPE", fmt(session.session_rpe)], ["Kind", kindText(session)]];
    $("summary-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k),
      el("dd", { "data-fact": k.toLowerCase().replace(" ", "-") }, v)]));
    const byExercise = new Map();
    for (const s of working) byExercise.set(s.exercise_id, [...(byExercise.get(s.exercise_id) || []), s]);
    $("summary-exercises").replaceChildren(...await Promise.all([...byExercise].map(
      async ([id, sets]) => el("li", {}, el("strong", {}, `${await nameOf(id)}: `),
        sets.map(describeSet).join(", ")))));
    try {
      for (const r of await records()) {
        if (r.set && r.set.session_id === session.session_id &&
            !state.prs.some((p) => p.set.set_id === r.set.set_id && p.record === r.record)) {
          state.prs.push(r);
        }
      }
    } catch { /* the summary shows the PRs seen so far */ }
    const kept = new Set(session.sets.map((s) => s.set_id));  // not the deleted sets' PRs
    const prs = await Promise.all(state.prs.filter((r) => kept.has(r.set.set_id)).map(
      async (r) => el("li", {}, `PR: ${recordText(r, await nameOf(r.exercise_id))}`)));
    $("summary-prs").replaceChildren(...(prs.length ? prs :
      [el("li", { class: "hint" }, "No new personal record this time.")]));
    state.summary = session;
    for (const id of ["active", "pick"]) $(id).hidden = true;
    $("summary").hidden = false;
    $("summary").scrollIntoView({ block: "start" });
  }

  // ------------------------------------------------------------------ start

  async function ready({ me, athlete }) {
    state.athlete = athlete;
    state.unit = athlete.profile.mass_unit || "kg";
    state.exercise = null;
    state.names.clear();
    $("unit").textContent = state.unit;
    $("exercise-chosen").textContent = "No exercise chosen yet.";
    $("last-time").textContent = "";
    const readonly = me.role === "coach";
    $("readonly").hidden = !readonly;
    for (const id of ["pick", "active", "summary"]) $(id).hidden = true;
    if (readonly) return;
    try {
      await flushPending();
      await Promise.all([loadSessions(), loadPlan()]);
    } catch (err) {
      say(`Could not load the sessions: ${err.message}`);
      return;
    }
    const resume = state.sessions.find((s) => s.session_id ===
      sessionStorage.getItem(SESSION_KEY) && s.status !== "discarded");
    if (resume) showActive(resume);
    else showPick();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("start-form").addEventListener("submit", startSession);
    $("set-form").addEventListener("submit", submitSet);
    $("set-form").addEventListener("click", step);
    $("cancel-edit").addEventListener("click", cancelEdit);
    $("end-form").addEventListener("submit", endSession);
    $("details-form").addEventListener("submit", saveDetails);
    $("exercise-q").addEventListener("input", search);
    $("exercise-q").addEventListener("keydown", pickFirst);
    $("rest-less").addEventListener("click", () => adjustRest(-15));
    $("rest-more").addEventListener("click", () => adjustRest(15));
    $("rest-skip").addEventListener("click", stopRest);
    $("toast").addEventListener("click", () => { $("toast").hidden = true; });
    $("summary-more").addEventListener("click", () => showActive(state.summary));
    $("summary-done").addEventListener("click", showPick);
    $("switch").addEventListener("click", async () => {
      await loadSessions().catch(() => {});
      await loadPlan();
      showPick();
    });
    window.addEventListener("online", flushPending);
    setInterval(() => { if (navigator.onLine) flushPending(); }, 15000);
    TL.start({ ready });
  });
})();
