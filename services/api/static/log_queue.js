// Sets logged without a connection: kept in localStorage, each with the Idempotency-Key it
// was first sent with, and sent again with that same key when the connection returns, so a
// set the server did receive is never logged twice.
"use strict";

const TLQueue = (() => {
  const KEY = "trainledger.pendingSets";

  /** Every pending set: {key, sessionId, body, name, queuedAt}. */
  function all() {
    try {
      const items = JSON.parse(localStorage.getItem(KEY) || "[]");
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  }

  const save = (items) => localStorage.setItem(KEY, JSON.stringify(items));
  const add = (item) => save([...all(), item]);
  const remove = (key) => save(all().filter((x) => x.key !== key));
  const forSession = (sessionId) => all().filter((x) => x.sessionId === sessionId);

  let flushing = null;

  /**
   * Send the pending sets in order.  ``sent(item, logged)`` runs for each one the server
   * took, ``refused(item, err)`` for each it refused (dropped: a retry cannot fix it).
   * Stops at the first network failure; returns how many are still pending.
   */
  function flush({ sent, refused }) {
    if (flushing) return flushing;
    flushing = (async () => {
      for (const item of all()) {
        try {
          const logged = await TL.api(`/sessions/${encodeURIComponent(item.sessionId)}/sets`,
            { method: "POST", body: item.body, idempotencyKey: item.key });
          remove(item.key);
          sent(item, logged);
        } catch (err) {
          if (err instanceof TypeError || err.status === 401) break;  // offline, signed out
          remove(item.key);
          refused(item, err);
        }
      }
      return all().length;
    })().finally(() => { flushing = null; });
    return flushing;
  }

  return { all, add, remove, forSession, flush };
})();
