/* Live updates for the staff console: the queue and an open case.
   The pages work without this script; it only saves reloading. */
(function () {
  "use strict";

  var SENDER = { user: "Medborgaren", bot: "Chattassistenten", agent: "Medarbetare", system: "System" };
  var STATUS = { queued: "Väntar", active: "Pågår", closed: "Avslutat", returned: "Tillbaka hos boten", cancelled: "Medborgaren lämnade kön" };
  var baseTitle = document.title;

  function announce(text) {
    var box = document.getElementById("live-notice");
    if (!box) return;
    box.textContent = "";
    // A fresh text node makes screen readers announce it even if it repeats.
    window.setTimeout(function () { box.textContent = text; }, 50);
  }

  function time(iso) {
    try {
      return new Date(iso).toLocaleTimeString("sv-SE", { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Stockholm" });
    } catch (e) { return ""; }
  }

  // The server ends a stream when the session ends (signed out, idle, account changed).
  function signedOut(source, data) {
    if (!data.signed_out) return false;
    source.close();
    announce("Du är utloggad. Ladda om sidan för att logga in igen.");
    return true;
  }

  function watchQueue(container) {
    var source = new EventSource(container.getAttribute("data-events"));
    var unseen = 0;
    source.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (signedOut(source, data)) return;
      if (!data.waiting) return;
      var activeId = document.activeElement && document.activeElement.id;
      fetch(container.getAttribute("data-fragment"), { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) return;
          container.innerHTML = html;
          if (activeId && document.getElementById(activeId)) document.getElementById(activeId).focus();
        });
      if (data["new"] && data["new"].length) {
        unseen += data["new"].length;
        announce(data["new"].length === 1 ? "Nytt ärende i kön." : data["new"].length + " nya ärenden i kön.");
        document.title = "(" + unseen + ") " + baseTitle;
      }
    };
    window.addEventListener("focus", function () { unseen = 0; document.title = baseTitle; });
  }

  function watchCase(list) {
    var initialStatus = list.getAttribute("data-status");
    var source = new EventSource(list.getAttribute("data-events"));
    source.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (signedOut(source, data)) return;
      if (data.sender) {
        if (list.querySelector('[data-id="' + data.id + '"]')) return;
        var item = document.createElement("li");
        item.className = "msg msg-" + data.sender;
        item.setAttribute("data-id", data.id);
        var who = document.createElement("span");
        who.className = "who";
        who.textContent = data.sender === "agent" && data.agent_name ? data.agent_name : SENDER[data.sender] || data.sender;
        var when = document.createElement("time");
        when.setAttribute("datetime", data.created_at);
        when.textContent = time(data.created_at);
        var text = document.createElement("p");
        text.className = "text";
        text.textContent = data.text;
        item.appendChild(who);
        item.appendChild(when);
        item.appendChild(text);
        list.appendChild(item);
        if (list.parentNode) list.parentNode.scrollTop = list.parentNode.scrollHeight;
      } else if (data.case_status && data.case_status !== initialStatus) {
        var status = document.getElementById("case-status");
        if (status) status.textContent = STATUS[data.case_status] || data.case_status;
        if (data.case_status === "cancelled") announce("Medborgaren har lämnat kön. Ladda om sidan för att se ärendet.");
        initialStatus = data.case_status;
      }
    };
  }

  var queue = document.getElementById("queue-tables");
  if (queue && window.EventSource) watchQueue(queue);
  var transcript = document.getElementById("transcript");
  if (transcript && window.EventSource) watchCase(transcript);
}());
