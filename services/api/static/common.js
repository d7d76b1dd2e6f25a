// trainledger pages: the token, API calls, sign-in and the athlete switcher.
// Plain JavaScript, no build step.  Every value from the API is written with textContent
// (never innerHTML), so data cannot inject markup; the pages' CSP forbids inline scripts.
"use strict";

const TL = (() => {
  // This browser's own device token, {token, token_id, role}, kept (localStorage) until Sign
  // out.  It comes from a one-time sign-in link (/sign-in) or from exchanging a pasted token
  // (POST /tokens/device): the pasted token itself is never kept.
  const DEVICE_KEY = "trainledger.device";
  const OLD_TOKEN_KEY = "trainledger.pastedToken";  // localStorage, earlier versions
  const OLD_TAB_TOKEN_KEY = "trainledger.token";  // sessionStorage, before that
  const ATHLETE_KEY = "trainledger.athlete";

  // a raw token an earlier version kept: exchanged for a device token by start(), then gone
  let oldToken = localStorage.getItem(OLD_TOKEN_KEY) || sessionStorage.getItem(OLD_TAB_TOKEN_KEY);
  localStorage.removeItem(OLD_TOKEN_KEY);
  sessionStorage.removeItem(OLD_TAB_TOKEN_KEY);

  function device() {
    try { return JSON.parse(localStorage.getItem(DEVICE_KEY)); } catch { return null; }
  }

  function keepDevice(d) {
    localStorage.setItem(DEVICE_KEY, JSON.stringify(
      { token: d.token, token_id: d.token_id, role: d.role || "athlete" }));
  }

  /** A device token of this browser's own for a pasted token, ending the one it held
   *  (another tab's sign-in, or one kept through a failed start): throws ApiError. */
  async function exchange(pasted) {
    const held = device();
    const response = await fetch("/tokens/device", {
      method: "POST", cache: "no-store",
      body: JSON.stringify(held && held.token ? { replaces: held.token } : {}),
      headers: { Accept: "application/json", "Content-Type": "application/json",
                 Authorization: `Bearer ${pasted}` },
    });
    let data = null;
    try { data = await response.json(); } catch { /* not JSON */ }
    if (!response.ok) {
      throw new ApiError(response.status, response.status === 401
        ? "That token was not accepted: check it, or ask for a sign-in link."
        : (data && typeof data.detail === "string" ? data.detail : null));
    }
    keepDevice(data);
    return data;
  }

  class ApiError extends Error {
    constructor(status, detail) {
      super(typeof detail === "string" ? detail : `HTTP ${status}`);
      this.status = status;
    }
  }

  const token = () => (device() || {}).token || null;

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
      if (response.status === 401) {
        signedOut("This device is signed out: its sign-in was revoked or has ended. Open a " +
                  "new sign-in link on it, or sign in with a token.");
      }
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

  /** A day (YYYY-MM-DD) as the pages show it: "Wed 2 Dec". */
  const dayLabel = (day) => new Date(`${day}T00:00:00Z`).toLocaleDateString("en-GB",
    { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });

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
    localStorage.removeItem(DEVICE_KEY);
    if (onSignedOut) onSignedOut(message);
  }

  /** Sign out: this device's token is revoked on the server, then forgotten here. */
  async function signOut() {
    const d = device();
    if (d && d.token_id) {
      try {
        await api(`/tokens/${encodeURIComponent(d.token_id)}`, { method: "DELETE" });
      } catch (err) {
        if (err.status !== 401 && err.status !== 404 && err.status !== 409) {
          signedOut(`Signed out here, but the server could not be told (${err.message}): ` +
                    "revoke this device on the Devices page.");
          return;
        }
      }
    }
    signedOut("Signed out: this device's token is revoked.");
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

    async function signIn(pasted) {
      try {
        await exchange(pasted);
      } catch (err) {
        onSignedOut(err instanceof ApiError ? err.message
          : `Could not reach trainledger: ${err.message}`);
        return;
      }
      enter();
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = input.value.trim();
      input.value = "";
      if (!value) return;
      error.textContent = "";
      signIn(value);
    });
    select.addEventListener("change", () => choose(select.value));
    signout.addEventListener("click", signOut);

    const pasted = oldToken;
    oldToken = null;
    if (pasted && !token()) signIn(pasted);
    else if (token()) enter();
    else onSignedOut("");
  }

  return { api, write, newKey, el, fmt, $, start, localDay, dayLabel, athleteName, ApiError,
           device, keepDevice };
})();
