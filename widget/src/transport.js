// Transport: HTTP calls to the chat API and live delivery (Server-Sent
// Events, with polling as the fallback). Knows nothing about the DOM.

var REQUEST_TIMEOUT_MS = 20000;
var POLL_MS = 2000;
var SSE_RETRY_MS = 60000;

// status 0 means the network failed (offline, server unreachable, timeout).
export function HttpError(status, retryAfter) {
  this.status = status;
  this.retryAfter = retryAfter;
}

function parseRetryAfter(value) {
  if (!value) return null;
  var secs = Number(value);
  if (!isNaN(secs)) return Math.max(0, secs);
  var when = Date.parse(value);
  return isNaN(when) ? null : Math.max(0, (when - Date.now()) / 1000);
}

export function createApi(base) {
  function request(method, path, body) {
    var ctl = typeof AbortController === "function" ? new AbortController() : null;
    var timer = ctl && setTimeout(function () { ctl.abort(); }, REQUEST_TIMEOUT_MS);
    var init = { method: method, credentials: "omit", cache: "no-store", headers: { Accept: "application/json" } };
    if (ctl) init.signal = ctl.signal;
    if (body) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(base + path, init).then(function (res) {
      clearTimeout(timer);
      if (!res.ok) throw new HttpError(res.status, parseRetryAfter(res.headers.get("Retry-After")));
      return res.json().catch(function () { return {}; });
    }, function () {
      clearTimeout(timer);
      throw new HttpError(0, null);
    });
  }

  function conv(id) {
    return "/api/v1/conversations/" + encodeURIComponent(id);
  }

  return {
    start: function () {
      return request("POST", "/api/v1/conversations", { locale: "sv" });
    },
    send: function (id, text, payload) {
      var body = { text: text };
      if (payload) body.payload = payload;
      return request("POST", conv(id) + "/messages", body);
    },
    since: function (id, after) {
      return request("GET", conv(id) + "/messages" + (after ? "?after=" + encodeURIComponent(after) : ""));
    },
    feedback: function (id, messageId, helped, comment) {
      return request("POST", conv(id) + "/messages/" + encodeURIComponent(messageId) + "/feedback",
        { helped: helped, comment: comment || null });
    },
    eventsUrl: function (id, after) {
      return base + conv(id) + "/events" + (after ? "?after=" + encodeURIComponent(after) : "");
    }
  };
}

// Live delivery for one conversation. `onData` receives parsed bodies,
// `onHealth(ok)` reports whether the server can currently be reached.
// Uses SSE while it works; when it fails, polls every POLL_MS and tries SSE
// again later.
export function createLive(api, conversationId, getAfter, onData, onHealth) {
  var es = null;
  var pollTimer = null;
  var sseRetryTimer = null;
  var stopped = false;
  var failures = 0;
  var pollGen = 0;

  function openSse() {
    if (stopped || typeof EventSource !== "function") return startPolling();
    es = new EventSource(api.eventsUrl(conversationId, getAfter()));
    es.onopen = function () {
      stopPolling();
      failures = 0;
      onHealth(true);
      // Catch up on anything stored between the last poll and this stream.
      pollOnce();
    };
    es.onmessage = function (ev) {
      var data;
      try {
        data = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      onData(data);
    };
    es.onerror = function () {
      // The stream dropped or the server has no push route: fall back to
      // polling and try the stream again later.
      closeSse();
      startPolling();
      clearTimeout(sseRetryTimer);
      sseRetryTimer = setTimeout(openSse, SSE_RETRY_MS);
    };
  }

  function closeSse() {
    if (es) {
      es.onopen = es.onmessage = es.onerror = null;
      es.close();
      es = null;
    }
  }

  function pollOnce() {
    return api.since(conversationId, getAfter()).then(function (body) {
      if (stopped) return;
      failures = 0;
      onHealth(true);
      onData(body);
    }, function (err) {
      if (stopped) return;
      failures++;
      // One failed poll can be a blip; tell the citizen on the second.
      if (failures >= 2 || err.status === 404) onHealth(false, err);
    });
  }

  function startPolling() {
    if (stopped || pollTimer) return;
    var gen = ++pollGen;
    (function tick() {
      pollTimer = setTimeout(function () {
        pollOnce().then(function () {
          if (gen === pollGen && !stopped) tick();
        });
      }, failures ? Math.min(POLL_MS * Math.pow(2, failures), 30000) : POLL_MS);
    })();
  }

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = null;
    pollGen++;
  }

  openSse();
  return {
    stop: function () {
      stopped = true;
      closeSse();
      stopPolling();
      clearTimeout(sseRetryTimer);
    },
    poke: pollOnce
  };
}
