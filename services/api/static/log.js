// trainledger gym logging page: pick or start today's session, log sets, end it with its RPE.
"use strict";

(() => {
  const { api, write, el, fmt, $ } = TL;
  const SESSION_KEY = "trainledger.session";
  const LB = 0.45359237;

  const state = {
    athlete: null, unit: "kg", sessions: [], active: null, exercise: null,
    names: new Map(), searchTimer: null, searchSeq: 0,
  };
  window.trainledgerLog = state;

  const base = () => `/athletes/${encodeURIComponent(state.athlete.athlete_id)}`;
  const tz = () => state.athlete.profile.timezone || "UTC";
  const fromKg = (kg) => (kg == null ? null :
    Math.round((state.unit === "lb" ? kg / LB : kg) * 100) / 100);
  const time = (iso) => new Date(iso).toLocaleTimeString([], {
    timeZone: tz(), hour: "2-digit", minute: "2-digit" });

  function say(text) { $("message").textContent = text; }

  /** An exercise's name: the athlete's custom ones, else the catalogue (cached). */
  function nameOf(id) {
    if (!state.names.has(id)) {
      const custom = state.athlete.custom_exercises[id];
      state.names.set(id, custom ? Promise.resolve(custom.name) :
        api(`/exercises/${encodeURIComponent(id)}`).then((e) => e.name, () => id));
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

  // ------------------------------------------------------------------ picking a session

  function showPick() {
    state.active = null;
    sessionStorage.removeItem(SESSION_KEY);
    $("active").hidden = true;
    $("pick").hidden = false;
    const today = TL.localDay(new Date(), tz());
    const open = state.sessions.filter((s) => s.status === "open" &&
      TL.localDay(new Date(s.started_at), tz()) === today);
    const holder = $("open-sessions");
    holder.replaceChildren(...(open.length ? [el("h2", {}, "Continue")] : []),
      ...open.map((s) => {
        const button = el("button", { type: "button", class: "big" },
          `${s.title || "Session"} · started ${time(s.started_at)} · ${s.sets.length} sets`);
        button.addEventListener("click", () => showActive(s));
        return button;
      }));
  }

  async function startSession(event) {
    event.preventDefault();
    const role = document.querySelector("input[name=role]:checked").value;
    const title = $("start-title").value.trim();
    $("start").disabled = true;
    try {
      const session = await write(`${base()}/sessions`, {
        started_at: new Date().toISOString(), planned_role: role, title: title || null });
      state.sessions.unshift(session);
      $("start-title").value = "";
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
    sessionStorage.setItem(SESSION_KEY, session.session_id);
    $("pick").hidden = true;
    $("active").hidden = false;
    $("h-active").textContent = session.title || "Session";
    renderSets();
    renderRecent();
    $("exercise-q").focus();
  }

  function renderFacts() {
    const s = state.active;
    $("session-facts").textContent = `Started ${time(s.started_at)} · ${s.planned_role} · ` +
      `${s.sets.length} ${s.sets.length === 1 ? "set" : "sets"}`;
  }

  function renderSets() {
    renderFacts();
    const list = $("sets");
    list.replaceChildren(...state.active.sets.map((s) => {
      const item = el("li", { "data-set-id": s.set_id }, el("span", { class: "ex" }, s.exercise_id),
        " ", el("span", {}, describeSet(s)));
      nameOf(s.exercise_id).then((name) => { item.firstChild.textContent = name; });
      return item;
    }));
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
    const holder = $("recent");
    holder.replaceChildren(...ids.slice(0, 8).map((id) => {
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

  function choose(exercise) {
    state.exercise = exercise;
    state.names.set(exercise.id, Promise.resolve(exercise.name));
    $("exercise-chosen").replaceChildren("Exercise: ", el("strong", {}, exercise.name));
    $("exercise-results").replaceChildren();
    $("exercise-q").value = "";
    const last = lastTime(exercise.id);
    $("last-time").replaceChildren(...(last ? [
      el("span", { class: "label" }, `Last time (${last.day}): `),
      last.sets.map(describeSet).join(", ")] : ["No earlier sets of this exercise."]));
    const here = state.active.sets.filter((x) => x.exercise_id === exercise.id);
    const template = here[here.length - 1] ||
      (last && (last.sets.find((x) => x.set_type !== "warmup") || last.sets[0]));
    if (template) {
      $("reps").value = template.reps ?? "";
      $("load").value = fromKg(template.load_kg) ?? "";
      $("rpe").value = template.rpe ?? "";
    }
    $("reps").focus();
  }

  function search() {
    clearTimeout(state.searchTimer);
    const q = $("exercise-q").value.trim();
    const seq = ++state.searchSeq;
    if (!q) {
      $("exercise-results").replaceChildren();
      return;
    }
    state.searchTimer = setTimeout(async () => {
      let found;
      try {
        found = await api(`/exercises?q=${encodeURIComponent(q)}&limit=8` +
          `&athlete_id=${encodeURIComponent(state.athlete.athlete_id)}`);
      } catch (err) {
        say(`Search failed: ${err.message}`);
        return;
      }
      if (seq !== state.searchSeq) return;
      $("exercise-results").replaceChildren(...(found.length ? found.map((e) => {
        const button = el("button", { type: "button", class: "match", "data-exercise": e.id },
          el("span", {}, e.name), el("span", { class: "cat" }, e.category.replace(/_/g, " ")));
        button.addEventListener("click", () => choose({ id: e.id, name: e.name }));
        return el("li", {}, button);
      }) : [el("li", { class: "hint" }, "No exercise matches.")]));
    }, 200);
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

  const number = (id) => ($(id).value.trim() === "" ? null : Number($(id).value));

  async function logSet(event) {
    event.preventDefault();
    const error = $("set-error");
    error.textContent = "";
    if (!state.exercise) {
      error.textContent = "Choose an exercise first.";
      $("exercise-q").focus();
      return;
    }
    const reps = number("reps"), load = number("load"), rpe = number("rpe");
    if (reps === null || !Number.isInteger(reps) || reps < 0) {
      error.textContent = "Reps must be a whole number.";
      $("reps").focus();
      return;
    }
    const body = { exercise_id: state.exercise.id, reps,
      set_type: $("warmup").checked ? "warmup" : "working" };
    if (load !== null) Object.assign(body, { load, load_unit: state.unit });
    if (rpe !== null) body.rpe = rpe;
    $("log-set").disabled = true;
    try {
      const logged = await write(`/sessions/${state.active.session_id}/sets`, body);
      state.active.sets.push(logged.set);
      state.active.version = logged.session_version;
      renderSets();
      renderRecent();
      say(`Logged: ${state.exercise.name}, ${describeSet(logged.set)}.`);
      $("warmup").checked = false;
    } catch (err) {
      error.textContent = `Not logged: ${err.message}`;
    } finally {
      $("log-set").disabled = false;
    }
  }

  async function endSession(event) {
    event.preventDefault();
    const error = $("end-error");
    const rpe = number("session-rpe");
    if (rpe === null || rpe < 0 || rpe > 10) {
      error.textContent = "Give the session RPE, from 0 to 10.";
      $("session-rpe").focus();
      return;
    }
    error.textContent = "";
    $("end").disabled = true;
    try {
      const ended = await write(`/sessions/${state.active.session_id}/end`, { session_rpe: rpe });
      say(`Session ended: ${ended.sets.length} sets, session RPE ${fmt(rpe)}.`);
      $("session-rpe").value = "";
      await loadSessions();
      showPick();
    } catch (err) {
      error.textContent = `Not ended: ${err.message}`;
    } finally {
      $("end").disabled = false;
    }
  }

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
    $("pick").hidden = true;
    $("active").hidden = true;
    if (readonly) return;
    try {
      await loadSessions();
    } catch (err) {
      say(`Could not load the sessions: ${err.message}`);
      return;
    }
    const resume = state.sessions.find((s) => s.session_id ===
      sessionStorage.getItem(SESSION_KEY) && s.status === "open");
    if (resume) showActive(resume);
    else showPick();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("start-form").addEventListener("submit", startSession);
    $("set-form").addEventListener("submit", logSet);
    $("set-form").addEventListener("click", step);
    $("end-form").addEventListener("submit", endSession);
    $("exercise-q").addEventListener("input", search);
    $("exercise-q").addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();  // Enter picks the first match instead of logging a set
      const first = $("exercise-results").querySelector("button");
      if (first) first.click();
    });
    $("switch").addEventListener("click", async () => {
      await loadSessions().catch(() => {});
      showPick();
    });
    TL.start({ ready });
  });
})();
