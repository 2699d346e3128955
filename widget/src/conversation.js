// Conversation: the citizen's side of one chat. Owns the message history,
// the outbox of messages that are not yet delivered, and the copy kept in
// sessionStorage so a reload or a new page keeps the conversation. Talks to
// the API through transport.js and to the screen through a view (ui.js).
//
// What the citizen typed is kept in memory only. Once the server has stored
// a message, the widget shows and keeps the server's copy instead, in which
// personal identity numbers are masked; sessionStorage never holds the text
// as typed, sent or not.

import { asText, idAfter, parseBody } from "./parse.js";
import { HttpError, createLive } from "./transport.js";

var STORE_KEY = "mjolby-chat";
var MAX_STORED = 200;
// After leaving the queue/agent states, keep listening a little longer so
// the "conversation ended" notice and the rating question still arrive live.
var LIVE_GRACE_MS = 30000;
// A message the server keeps answering with an error (5xx) is given up after
// this many tries, so that the messages behind it still go.
var MAX_SERVER_TRIES = 4;
var UNSENT_NOTICE = "Ett meddelande som du skrev hann inte skickas innan sidan laddades om. Skriv det gärna igen.";

export function createConversation(api, view) {
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
  // A message was given up: its notice stays until the citizen sends again.
  var keepNotice = false;
  // Bumped by clear(): answers to requests made before it are ignored.
  var epoch = 0;

  function blank() {
    return { cid: null, state: "bot", queue: null, lastId: null, messages: [], outbox: [], open: false };
  }

  function load() {
    try {
      var d = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
      if (!d || !Array.isArray(d.messages)) return null;
      d.outbox = [];
      if (d.unsent > 0) {
        // Their text was never stored: say so instead of losing them quietly.
        d.messages.push({ id: null, lid: newLid(), sender: "system", text: UNSENT_NOTICE, links: [], buttons: [] });
      }
      delete d.unsent;
      return d;
    } catch (e) {
      return null;
    }
  }

  function newLid() {
    return "l" + Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
  }

  // The citizen's own message as typed: on screen until the server's copy arrives.
  function asTyped(m) {
    return m.sender === "user" && m.id == null;
  }

  function save() {
    try {
      var copy = {};
      for (var k in s) if (k !== "outbox") copy[k] = s[k];
      copy.messages = s.messages.filter(function (m) { return !asTyped(m); }).slice(-MAX_STORED);
      copy.unsent = s.outbox.length;
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

  // The first delivered message still shown as typed.
  function awaitingCopy() {
    for (var i = 0; i < s.messages.length; i++) if (s.messages[i].sent && asTyped(s.messages[i])) return s.messages[i];
    return null;
  }

  function ingest(body, fromLive) {
    var d = parseBody(body);
    d.messages.forEach(function (m) {
      if (m.id != null && known(m.id)) return;
      if (m.id != null && idAfter(m.id, s.lastId)) s.lastId = m.id;
      if (m.sender === "user") {
        // The server's copy of a message already on screen (delivered in
        // order, one at a time): show and keep that one, masked as stored.
        var mine = m.id != null && awaitingCopy();
        if (mine) {
          mine.id = m.id;
          mine.text = m.text;
          delete mine.sent;
          delete mine.after;
          view.update(mine);
        }
        return;
      }
      // The conversation the answer belongs to, for "Fick du svar på din fråga?".
      if (m.ask) m.cid = s.cid;
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
      if (!pumping) clearError();
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
        clearError();
        ingest(body, false);
      }, function (err) {
        if (my === epoch) starting = null;
        throw err;
      });
    }
    return starting;
  }

  function clearError() {
    if (!keepNotice) view.error(null);
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

  // Fetches the server's copies of delivered messages still shown as typed.
  // A failure leaves them as they are (on screen, not stored); the next
  // delivered message asks again from the same point.
  function fetchCopies() {
    var first = awaitingCopy();
    if (!first || !s.cid) return;
    var my = epoch;
    api.since(s.cid, first.after).then(function (body) {
      if (my === epoch) ingest(body, false);
    }, function () {});
  }

  // Takes the first message out of the outbox; its text goes back into the
  // input so that nothing the citizen wrote is lost.
  function giveUp(kind) {
    var item = s.outbox.shift();
    var m = item && byLid(item.lid);
    if (m) {
      s.messages.splice(s.messages.indexOf(m), 1);
      view.remove(m);
    }
    attempt = 0;
    keepNotice = true;
    save();
    view.restoreInput(item ? item.text : "");
    view.error(kind);
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
        var before = s.lastId;
        view.typing(s.state === "bot" || s.state === "closed");
        return api.send(s.cid, item.text, item.payload).then(function (body) {
          if (my !== epoch) return;
          s.outbox.shift();
          lastWasGone = false;
          attempt = 0;
          view.typing(false);
          clearError();
          if (m) {
            m.pending = false;
            m.sent = true;
            m.after = before;
            view.update(m);
          }
          ingest(body, false);
          fetchCopies();
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
          giveUp(status === 413 ? "too_long" : "rejected");
          return next();
        }
        if (status >= 500 && s.outbox.length) {
          var head = s.outbox[0];
          head.serverErrors = (head.serverErrors || 0) + 1;
          if (head.serverErrors >= MAX_SERVER_TRIES) {
            giveUp("server_error");
            return next();
          }
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
    var m = { id: null, lid: newLid(), sender: "user", text: text, links: [], buttons: [], pending: true };
    keepNotice = false;
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
    // "Fick du svar på din fråga?": once per answer, remembered across reloads.
    // Resolves when the answer is stored (or was already), rejects otherwise.
    feedback: function (m, helped, comment) {
      if (m.answered) return Promise.resolve();
      return api.feedback(m.cid, m.id, helped, comment).then(null, function (err) {
        if (!(err instanceof HttpError) || err.status !== 409) throw err;
      }).then(function () {
        m.answered = helped ? "yes" : "no";
        save();
      });
    },
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
      keepNotice = false;
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
