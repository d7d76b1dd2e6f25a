// trainledger pages: the token, API calls, sign-in and the athlete switcher.
// Plain JavaScript, no build step.  Every value from the API is written with textContent
// (never innerHTML), so data cannot inject markup; the pages' CSP forbids inline scripts.
"use strict";

const TL = (() => {
  // The token the user pasted, kept by this browser (localStorage) until they sign out.
  // TODO(issue 14, item 1): replace it by the device token of a one-time sign-in link
  // (POST /sign-in/{secret}) once that API is merged; the raw token must then never be kept.
  const TOKEN_KEY = "trainledger.pastedToken";
  const OLD_TAB_TOKEN_KEY = "trainledger.token";  // sessionStorage, before this version
  const ATHLETE_KEY = "trainledger.athlete";

  if (sessionStorage.getItem(OLD_TAB_TOKEN_KEY) && !localStorage.getItem(TOKEN_KEY)) {
    localStorage.setItem(TOKEN_KEY, sessionStorage.getItem(OLD_TAB_TOKEN_KEY));
  }
  sessionStorage.removeItem(OLD_TAB_TOKEN_KEY);

  class ApiError extends Error {
    constructor(status, detail) {
      super(typeof detail === "string" ? detail : `HTTP ${status}`);
      this.status = status;
    }
  }

  const token = () => localStorage.getItem(TOKEN_KEY);

  /** A JSON request with the bearer token; throws ApiError on a non-2xx answer. */
  async function api(path, { method = "GET", body, idempotencyKey } = {}) {
    const headers = { Accept: "application/json" };
    const t = token();
    if (t) headers.Authorization = `Bearer ${t}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    const response = await fetch(path, {
      method, headers, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 204) return null;
    let data = null;
    try { data = await response.json(); } catch { /* not JSON */ }
    if (!response.ok) {
      if (response.status === 401) signedOut("Your token was not accepted: sign in again.");
      const detail = data && data.detail;
      throw new ApiError(response.status,
        typeof detail === "string" ? detail : (detail ? JSON.stringify(detail) : null));
    }
    return data;
  }

  /** A write that is safe to retry: the same Idempotency-Key is applied once by the server. */
  const newKey = () => (crypto.randomUUID && crypto.randomUUID()) ||
    `${Date.now()}-${Math.random().toString(36).slice(2)}`;

  async function write(path, body, method = "POST", key = newKey()) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await api(path, { method, body, idempotencyKey: key });
      } catch (err) {
        // a network failure (TypeError) may have reached the server: retry with the same key
        if (!(err instanceof TypeError) || attempt >= 2) throw err;
        await new Promise((resolve) => setTimeout(resolve, 800 * (attempt + 1)));
      }
    }
  }

  const $ = (id) => document.getElementById(id);

  /** An element with text content and attributes: el("li", {class: "x"}, "text", child). */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function fmt(value, digits = 1) {
    if (value === null || value === undefined) return "–";
    if (typeof value !== "number") return String(value);
    return String(Number(value.toFixed(digits)));  // 62.5, not 62.50
  }

  const athleteName = (a) => (a.profile && a.profile.name) || a.athlete_id.slice(0, 8);

  /** The day (YYYY-MM-DD) of a moment in a time zone. */
  function localDay(moment, timeZone) {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone, year: "numeric", month: "2-digit", day: "2-digit",
    }).formatToParts(moment);
    const get = (t) => parts.find((p) => p.type === t).value;
    return `${get("year")}-${get("month")}-${get("day")}`;
  }

  let onSignedOut = null;

  function signedOut(message) {
    localStorage.removeItem(TOKEN_KEY);
    if (onSignedOut) onSignedOut(message);
  }

  /**
   * Sign-in, then the athlete switcher.  ``ready(state)`` runs with the caller (``/me``),
   * the athletes the token may read and the chosen one, and again on each switch.
   */
  function start({ ready, stop }) {
    const signin = $("signin"), app = $("app"), who = $("who");
    const form = $("signin-form"), input = $("token"), error = $("signin-error");
    const select = $("athlete"), signout = $("signout");
    let me = null, athletes = [];

    onSignedOut = (message) => {
      if (stop) stop();
      app.hidden = true;
      who.hidden = true;
      signin.hidden = false;
      error.textContent = message || "";
      input.value = "";
      input.focus();
    };

    function choose(athleteId) {
      const athlete = athletes.find((a) => a.athlete_id === athleteId) || athletes[0];
      localStorage.setItem(ATHLETE_KEY, athlete.athlete_id);
      select.value = athlete.athlete_id;
      ready({ me, athletes, athlete });
    }

    async function enter() {
      try {
        me = await api("/me");
        athletes = await api("/athletes");
      } catch (err) {
        if (err.status !== 401) onSignedOut(`Could not reach trainledger: ${err.message}`);
        return;
      }
      signin.hidden = true;
      who.hidden = false;
      app.hidden = false;
      select.replaceChildren(...athletes.map(
        (a) => el("option", { value: a.athlete_id }, athleteName(a))));
      select.disabled = athletes.length < 2;
      if (!athletes.length) {
        if (stop) stop();
        $("app-empty").hidden = false;
        return;
      }
      $("app-empty").hidden = true;
      choose(localStorage.getItem(ATHLETE_KEY));
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      localStorage.setItem(TOKEN_KEY, value);
      error.textContent = "";
      enter();
    });
    select.addEventListener("change", () => choose(select.value));
    signout.addEventListener("click", () => signedOut("Signed out."));

    if (token()) enter();
    else onSignedOut("");
  }

  return { api, write, newKey, el, fmt, $, start, localDay, athleteName, ApiError };
})();
