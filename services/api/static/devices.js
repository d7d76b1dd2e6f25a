// /devices: sign a phone in by a one-time link (shown as text and as a QR code drawn by the
// server), and the devices signed in as the athlete, with their last use, each revocable.
"use strict";

(() => {
  const { $, el, api } = TL;
  let current = null;  // { me, athlete }

  const when = (iso) => (iso ? new Date(iso).toLocaleString() : "never");

  function deviceItem(t, onRevoked) {
    const mine = (TL.device() || {}).token_id === t.token_id;
    const revoke = el("button", { type: "button", class: "revoke", "data-token-id": t.token_id,
                                  "aria-label": mine ? "Sign out this device"
                                    : `Revoke ${t.label || "this token"}` },
                      mine ? "Sign out this device" : "Revoke");
    revoke.addEventListener("click", async () => {
      if (mine) {  // this browser's own token: Sign out revokes and forgets it
        $("signout").click();
        return;
      }
      revoke.disabled = true;
      try {
        await api(`/tokens/${encodeURIComponent(t.token_id)}`, { method: "DELETE" });
      } catch (err) {
        revoke.disabled = false;
        $("message").textContent = `Could not revoke it: ${err.message}`;
        return;
      }
      $("message").textContent = `Revoked: ${t.label || "a token"}.`;
      onRevoked();
    });
    return el("li", { class: "device", "data-token-id": t.token_id },
      el("div", {},
        el("strong", { class: "device-label" }, t.label || "token without a name"),
        mine ? el("span", { class: "badge this-device" }, " · this device") : null,
        el("span", { class: "hint device-times" },
          `Signed in ${when(t.created_at)} · last used `,
          el("span", { class: "last-used" }, when(t.last_used_at)))),
      revoke);
  }

  async function listDevices() {
    const { me, athlete } = current;
    const list = $("devices"), note = $("devices-note");
    if (me.role === "coach") {  // a coach may sign the athlete in, not see their tokens
      list.replaceChildren();
      note.textContent = "Only the athlete and the admin see the athlete's devices.";
      note.hidden = false;
    } else {
      const tokens = await api(`/athletes/${athlete.athlete_id}/tokens`);
      const live = tokens.filter((t) => !t.revoked_at);
      list.replaceChildren(...live.map((t) => deviceItem(t, listDevices)));
      note.textContent = live.length ? "" : "No device is signed in as this athlete.";
      note.hidden = live.length > 0;
    }
    $("own-card").hidden = me.role === "athlete";
    if (me.role !== "athlete") {
      const own = (await api("/me/tokens")).filter((t) => !t.revoked_at);
      $("own-devices").replaceChildren(...own.map((t) => deviceItem(t, listDevices)));
    }
  }

  async function issueLink() {
    const button = $("issue-link");
    button.disabled = true;
    $("link-error").textContent = "";
    try {
      const link = await api(`/athletes/${current.athlete.athlete_id}/sign-in-links`,
                             { method: "POST" });
      $("link-qr").src = link.qr_svg;
      $("link-url").textContent = link.url;
      $("link-expires").textContent =
        `Opens once, until ${new Date(link.expires_at).toLocaleTimeString()}.`;
      $("link").hidden = false;
      button.textContent = "Create another link";
    } catch (err) {
      $("link-error").textContent = `Could not create a link: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  }

  $("issue-link").addEventListener("click", issueLink);
  $("copy-link").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("link-url").textContent);
      $("message").textContent = "Link copied.";
    } catch {
      $("message").textContent = "Select the link and copy it.";
    }
  });

  TL.start({
    ready: (state) => {
      current = state;
      const name = TL.athleteName(state.athlete);
      $("link-athlete").textContent = name;
      $("devices-athlete").textContent = name;
      $("link").hidden = true;
      $("issue-link").textContent = "Create a sign-in link";
      $("message").textContent = "";
      listDevices().catch((err) => {
        $("message").textContent = `Could not list the devices: ${err.message}`;
      });
    },
  });
})();
