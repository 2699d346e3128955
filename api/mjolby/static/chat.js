// Minimal chat box of the demo page, used when the real widget is not built.
// Talks to the chat API on the same origin (CONTRACT.md).
(function () {
  "use strict";
  var API = "/api/v1/conversations";
  var STORE = "mjolby-demo-conversation";
  var SENDER = { user: "Du", bot: "Assistenten", agent: "Medborgarservice", system: "Meddelande" };
  var log = document.getElementById("chatt-logg");
  var statusEl = document.getElementById("chatt-status");
  var form = document.getElementById("chatt-formular");
  var input = document.getElementById("chatt-meddelande");
  var restart = document.getElementById("chatt-ny");
  var conversationId = null;
  var lastId = 0;
  var busy = false;

  function setStatus(text) { statusEl.textContent = text || ""; }

  function request(method, url, body) {
    var options = { method: method, headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(typeof data.detail === "string" ? data.detail : "Något gick fel.");
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function bubble(message) {
    var item = document.createElement("div");
    item.className = "msg msg-" + message.sender;
    var who = document.createElement("span");
    who.className = "msg-who";
    who.textContent = (SENDER[message.sender] || "") + ": ";
    item.appendChild(who);
    item.appendChild(document.createTextNode(message.text));
    var links = (message.links || []).filter(function (l) { return /^https:\/\//.test(l.url); });
    if (links.length) {
      var list = document.createElement("ul");
      links.forEach(function (link) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = link.url;
        a.textContent = link.title;
        a.rel = "noopener";
        li.appendChild(a);
        list.appendChild(li);
      });
      item.appendChild(list);
    }
    if ((message.buttons || []).length) {
      var group = document.createElement("div");
      group.className = "msg-buttons";
      message.buttons.forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", function () { send(b.title, b.payload); });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    return item;
  }

  function render(message) {
    var id = parseInt(message.id, 10);
    if (id <= lastId) { return; }
    lastId = id;
    log.appendChild(bubble(message));
    log.scrollTop = log.scrollHeight;
  }

  function start() {
    log.textContent = "";
    lastId = 0;
    setStatus("Startar chatten …");
    return request("POST", API, { locale: "sv" }).then(function (data) {
      conversationId = data.conversation_id;
      sessionStorage.setItem(STORE, conversationId);
      data.messages.forEach(render);
      setStatus("");
    }).catch(function (error) { setStatus(error.message); });
  }

  function resume(id) {
    return request("GET", API + "/" + encodeURIComponent(id)).then(function (data) {
      conversationId = id;
      data.messages.forEach(render);
    }).catch(function () { return start(); });
  }

  function send(text, payload) {
    if (busy || !conversationId || !text.trim()) { return; }
    busy = true;
    // Shown at once; replaced by the stored (masked) copy when the reply comes.
    var pending = bubble({ sender: "user", text: text });
    log.appendChild(pending);
    log.scrollTop = log.scrollHeight;
    setStatus("Assistenten skriver …");
    var body = { text: text };
    if (payload) { body.payload = payload; }
    var url = API + "/" + encodeURIComponent(conversationId) + "/messages";
    request("POST", url, body)
      .then(function () { return request("GET", url + "?after=" + lastId); })
      .then(function (data) {
        log.removeChild(pending);
        data.messages.forEach(render);
        setStatus("");
      })
      .catch(function (error) {
        if (pending.parentNode) { log.removeChild(pending); }
        if (!payload) { input.value = text; }
        setStatus(error.message);
        if (error.status === 404) { start(); }
      })
      .then(function () { busy = false; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  restart.addEventListener("click", function () { sessionStorage.removeItem(STORE); start(); });

  var saved = sessionStorage.getItem(STORE);
  if (saved) { resume(saved); } else { start(); }
})();
