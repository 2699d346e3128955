// Conversation: the citizen's side of one chat. Owns the message history,
// the outbox of messages that are not yet delivered, and the copy kept in
// sessionStorage so a reload or a new page keeps the conversation. Talks to
// the API through transport.js and to the screen through a view (ui.js).

var STORE_KEY = "mjolby-chat";
var MAX_STORED = 200;
// After leaving the queue/agent states, keep listening a little longer so
// the "conversation ended" notice and the rating question still arrive live.
var LIVE_GRACE_MS = 30000;

function createConversation(api, view) {
  var s = load() || blank();
  var live = null;
  var liveUntil = 0;
  var liveTimer = null;
  var pumping = false;
  var attempt = 0;
  var retryTimer = null;
  var retryFn = null;
  var starting = null;
  var lastWasGone = false;
  // Bumped by clear(): answers to requests made before it are ignored.
  var epoch = 0;

  function blank() {
    return { cid: null, state: "bot", queue: null, lastId: null, messages: [], outbox: [], open: false };
  }

  function load() {
    try {
      var d = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
      return d && Array.isArray(d.messages) && Array.isArray(d.outbox) ? d : null;
    } catch (e) {
      return null;
    }
  }

  function save() {
    try {
      var copy = {};
      for (var k in s) copy[k] = s[k];
      copy.messages = s.messages.slice(-MAX_STORED);
      sessionStorage.setItem(STORE_KEY, JSON.stringify(copy));
    } catch (e) {
      // Storage full or blocked: the conversation still works, it just
      // won't survive a reload.
    }
  }

  function byLid(lid) {
    for (var i = 0; i < s.messages.length; i++) if (s.messages[i].lid === lid) return s.messages[i];
    return null;
  }

  function known(id) {
    for (var i = s.messages.length - 1; i >= 0; i--) if (s.messages[i].id === id) return true;
    return false;
  }

  function ingest(body, fromLive) {
    var d = parseBody(body);
    d.messages.forEach(function (m) {
      if (m.id != null && known(m.id)) return;
      if (m.id != null && idAfter(m.id, s.lastId)) s.lastId = m.id;
      // The citizen's own messages are already on screen (the server's copy
      // only differs by masking, which the local copy applies itself).
      if (m.sender === "user") return;
      s.messages.push(m);
      view.add(m);
      if (fromLive && !s.open) view.unread(m);
    });
    if (d.state && d.state !== s.state) {
      var wasLive = s.state === "queued" || s.state === "agent";
      s.state = d.state;
      if (wasLive || d.state === "closed") liveUntil = Date.now() + LIVE_GRACE_MS;
      if (d.state !== "queued") s.queue = null;
    }
    if (d.queue && s.state === "queued") s.queue = d.queue;
    view.state(s.state, s.queue);
    save();
    syncLive();
  }

  function syncLive() {
    var active = s.state === "queued" || s.state === "agent";
    var need = !!s.cid && (active || Date.now() < liveUntil);
    if (need && !live) {
      live = createLive(api, s.cid, function () { return s.lastId; }, function (b) { ingest(b, true); }, health);
    } else if (!need && live) {
      live.stop();
      live = null;
    }
    clearTimeout(liveTimer);
    if (live && !active) liveTimer = setTimeout(syncLive, Math.max(0, liveUntil - Date.now()) + 50);
  }

  function stopLive() {
    clearTimeout(liveTimer);
    if (live) live.stop();
    live = null;
  }

  function health(ok, err) {
    if (ok) {
      if (!pumping) view.error(null);
    } else if (err && err.status === 404) {
      forget();
      view.error("gone");
    } else {
      view.error(s.outbox.length ? "offline_pending" : "offline");
    }
  }

  // The server no longer knows this conversation (expired or removed): keep
  // what is on screen, start a new one with the next message.
  function forget() {
    stopLive();
    s.cid = null;
    s.lastId = null;
    s.state = "bot";
    s.queue = null;
    view.state(s.state, s.queue);
    save();
  }

  function ensureStarted() {
    if (s.cid) return Promise.resolve();
    if (!starting) {
      var my = epoch;
      view.typing(!s.outbox.length);
      starting = api.start().then(function (body) {
        if (my !== epoch) return;
        starting = null;
        if (!body || body.conversation_id == null) throw new HttpError(502, null);
        s.cid = asText(body.conversation_id);
        view.typing(false);
        view.error(null);
        ingest(body, false);
      }, function (err) {
        if (my === epoch) starting = null;
        throw err;
      });
    }
    return starting;
  }

  function later(seconds, fn) {
    clearTimeout(retryTimer);
    retryFn = fn;
    retryTimer = setTimeout(function () {
      retryFn = null;
      fn();
    }, seconds * 1000);
  }

  function backoff() {
    var base = Math.min(30, Math.pow(2, attempt++));
    return base * (0.8 + Math.random() * 0.4);
  }

  // Sends the outbox in order, one message at a time, and creates the
  // conversation first when there is none. Never drops a message on a
  // network or server error: it waits and tries again.
  function pump() {
    if (pumping) return;
    pumping = true;
    var my = epoch;
    (function next() {
      if (my !== epoch) return;
      if (s.cid && !s.outbox.length) {
        pumping = false;
        attempt = 0;
        return;
      }
      ensureStarted().then(function () {
        if (!s.outbox.length) return next();
        var item = s.outbox[0];
        var m = byLid(item.lid);
        view.typing(s.state === "bot" || s.state === "closed");
        return api.send(s.cid, item.text, item.payload).then(function (body) {
          if (my !== epoch) return;
          s.outbox.shift();
          lastWasGone = false;
          attempt = 0;
          view.typing(false);
          view.error(null);
          if (m) {
            m.pending = false;
            m.text = maskLocal(m.text);
            view.update(m);
          }
          ingest(body, false);
          next();
        });
      }).catch(function (err) {
        if (my !== epoch) return;
        view.typing(false);
        var status = err instanceof HttpError ? err.status : 0;
        if (!(err instanceof HttpError) && window.console) console.error("Chat widget:", err);
        if (status === 404 && !lastWasGone) {
          lastWasGone = true;
          forget();
          return next();
        }
        if (status === 413 || (status >= 400 && status < 500 && status !== 404 && status !== 408 && status !== 429)) {
          var item = s.outbox.shift();
          var m = item && byLid(item.lid);
          if (m) {
            s.messages.splice(s.messages.indexOf(m), 1);
            view.remove(m);
          }
          save();
          view.restoreInput(item ? item.text : "");
          view.error(status === 413 ? "too_long" : "rejected");
          return next();
        }
        if (status === 429) {
          view.error("busy");
          return later(err.retryAfter != null ? err.retryAfter : 5, next);
        }
        view.error(s.outbox.length ? "offline_pending" : "offline");
        later(backoff(), next);
      });
    })();
  }

  function send(text, payload) {
    var m = { id: null, lid: "l" + Date.now().toString(36) + Math.random().toString(36).slice(2, 6), sender: "user", text: text, links: [], buttons: [], pending: true };
    retireQuickReplies();
    s.messages.push(m);
    s.outbox.push({ lid: m.lid, text: text, payload: payload || null });
    view.add(m);
    save();
    if (pumping && retryFn) retryNow();
    pump();
  }

  function retireQuickReplies() {
    s.messages.forEach(function (m) {
      if (m.buttons && m.buttons.length && !m.used) {
        m.used = true;
        view.update(m);
      }
    });
  }

  function retryNow() {
    if (retryFn) {
      var fn = retryFn;
      clearTimeout(retryTimer);
      retryFn = null;
      attempt = 0;
      fn();
    } else if (live) {
      live.poke();
    }
  }

  return {
    // Puts a restored conversation on screen and picks up where it left off.
    restore: function () {
      s.messages.forEach(function (m) { view.add(m); });
      view.state(s.state, s.queue);
      if (s.cid) {
        liveUntil = Date.now() + LIVE_GRACE_MS;
        api.since(s.cid, s.lastId).then(function (body) { ingest(body, false); }, function (err) {
          if (err.status === 404) forget();
          syncLive();
        });
      }
      if (s.outbox.length) pump();
      return s.open;
    },
    setOpen: function (open) {
      s.open = open;
      // Nothing is written for a chat that has not started (or was cleared).
      if (s.cid || s.messages.length) save();
      if (open) pump();
    },
    send: send,
    retryNow: retryNow,
    hasMessages: function () { return s.messages.length > 0; },
    clear: function () {
      epoch++;
      starting = null;
      stopLive();
      clearTimeout(retryTimer);
      retryFn = null;
      pumping = false;
      attempt = 0;
      s = blank();
      try {
        sessionStorage.removeItem(STORE_KEY);
      } catch (e) {
        // Nothing stored, nothing to remove.
      }
      view.reset();
    }
  };
}
