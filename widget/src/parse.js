// Message parsing: turns chat API payloads into the widget's own records.
// Everything coming from the network is treated as untrusted: text is only
// ever rendered with textContent, and links must be http(s) URLs.

export var MAX_CHARS = 2000;
var STATES = ["bot", "queued", "agent", "closed"];
var SENDERS = ["user", "bot", "agent", "system"];
// Conversational behaviour (CONTRACT.md): no "Fick du svar på din fråga?" under these.
var BEHAVIOUR_TOPICS = ["greet", "handover_request", "sensitive_data_shared", "out_of_scope", "goodbye_thanks", "bot_challenge"];
// Crisis, violence and concern for a child (topics.yml kind "sensitive"): the answer
// gives support lines and offers a person; asking whether it "helped" would be out of place.
var SENSITIVE_TOPICS = ["kris_akut_hjalp", "vald_nara_relation", "orosanmalan_barn"];
export var MAX_COMMENT_CHARS = 500;

export function asText(v) {
  return typeof v === "string" ? v : v == null ? "" : String(v);
}

// Code points, not UTF-16 units: the server counts characters the same way.
export function countChars(s) {
  return Array.from(s).length;
}

function safeUrl(u) {
  try {
    var url = new URL(asText(u));
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch (e) {
    return null;
  }
}

function isRatingPayload(p) {
  return /^\/rate\b/.test(p);
}

function parseMessage(raw) {
  if (!raw || typeof raw !== "object" || (raw.text == null && !raw.buttons && !raw.links)) return null;
  var m = {
    id: raw.id == null ? null : asText(raw.id),
    sender: SENDERS.indexOf(raw.sender) >= 0 ? raw.sender : "bot",
    text: asText(raw.text),
    topic: raw.topic ? asText(raw.topic) : null,
    agent: raw.agent_name ? asText(raw.agent_name) : "",
    links: [],
    buttons: []
  };
  (Array.isArray(raw.links) ? raw.links : []).forEach(function (l) {
    var url = l && safeUrl(l.url);
    if (url) m.links.push({ title: asText(l.title) || url, url: url });
  });
  (Array.isArray(raw.buttons) ? raw.buttons : []).forEach(function (b) {
    if (b && (b.title || b.payload)) m.buttons.push({ title: asText(b.title || b.payload), payload: asText(b.payload) });
  });
  m.rating = m.buttons.length > 1 && m.buttons.every(function (b) { return isRatingPayload(b.payload); });
  // An answer from the assistant's knowledge: the citizen is asked whether it helped.
  m.ask = m.sender === "bot" && m.id != null && !!m.topic && BEHAVIOUR_TOPICS.indexOf(m.topic) < 0 &&
    SENSITIVE_TOPICS.indexOf(m.topic) < 0;
  return m;
}

// Accepts a response body or a pushed event and returns {state, queue, messages}.
// A pushed event is either a single Message or {"state": ...}.
export function parseBody(body) {
  var out = { state: null, queue: null, messages: [] };
  if (!body || typeof body !== "object") return out;
  if (STATES.indexOf(body.state) >= 0) out.state = body.state;
  var q = body.queue;
  if (q && typeof q === "object") {
    out.queue = {
      position: typeof q.position === "number" ? q.position : null,
      wait: typeof q.estimated_wait_minutes === "number" ? q.estimated_wait_minutes : null
    };
  }
  var list = Array.isArray(body.messages) ? body.messages : body.sender ? [body] : [];
  list.forEach(function (raw) {
    var m = parseMessage(raw);
    if (m) out.messages.push(m);
  });
  return out;
}

// Message ids are "unique and increasing" strings: compare numerically when
// both are numbers, otherwise by length and then lexically (ULID-like ids).
export function idAfter(a, b) {
  if (b == null) return true;
  if (a == null) return false;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return Number(a) > Number(b);
  return a.length !== b.length ? a.length > b.length : a > b;
}
