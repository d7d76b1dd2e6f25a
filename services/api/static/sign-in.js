// /sign-in#SECRET: open a one-time sign-in link.  The secret is in the fragment, which a
// browser never sends to a server; it leaves the address bar and history at once, goes to
// POST /sign-in in the body, and this browser keeps only the device token it gets back.
"use strict";

(() => {
  const { $ } = TL;
  const secret = location.hash.slice(1);  // URL-safe base64: nothing to decode
  history.replaceState(null, "", location.pathname);

  function problem(title, message, canRetry) {
    $("link-title").textContent = title;
    $("link-status").textContent = "";
    $("link-error").textContent = message;
    $("link-retry").hidden = !canRetry;
    $("link-problem").hidden = false;
  }

  async function open() {
    $("link-problem").hidden = true;
    $("link-title").textContent = "Signing in this device…";
    $("link-status").textContent = "Opening the sign-in link.";
    let response;
    try {
      response = await fetch("/sign-in", {
        method: "POST", cache: "no-store", body: JSON.stringify({ secret }),
        headers: { Accept: "application/json", "Content-Type": "application/json" },
      });
    } catch {
      problem("Not signed in", "Could not reach trainledger. Check the connection and try " +
              "again; if it still fails, ask for a new link.", true);
      return;
    }
    let data = null;
    try { data = await response.json(); } catch { /* not JSON */ }
    if (response.status === 404) {
      problem("This link no longer works", "This sign-in link was used already or has " +
              "expired: a link opens once, within 15 minutes. Ask your coach or the admin " +
              "for a new one (Devices page, “Sign in a phone”).", false);
      return;
    }
    if (!response.ok) {
      const detail = data && typeof data.detail === "string" ? data.detail
        : `HTTP ${response.status}`;
      problem("Not signed in", `The link was refused: ${detail}.`, response.status >= 500);
      return;
    }
    const before = TL.device();
    TL.keepDevice({ ...data, role: "athlete" });
    if (before && before.token_id) {  // this browser was signed in before: end that sign-in
      fetch(`/tokens/${encodeURIComponent(before.token_id)}`, {
        method: "DELETE", keepalive: true,
        headers: { Authorization: `Bearer ${before.token}` },
      }).catch(() => {});
    }
    localStorage.setItem("trainledger.athlete", data.athlete_id);
    location.replace("/week");
  }

  $("link-retry").addEventListener("click", open);
  if (secret) {
    open();
  } else {
    problem("Sign in by link", "This page signs a device in with a one-time link, which " +
            "you open on the device or scan as a QR code. This address has no link in it: " +
            "ask your coach or the admin for one.", false);
  }
})();
