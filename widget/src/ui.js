// UI: builds the launcher and the chat panel inside the shadow root and
// renders what the conversation reports. All text from the network goes in
// through textContent; the only markup here is the widget's own.

import { MAX_CHARS, MAX_COMMENT_CHARS, countChars } from "./parse.js";

// Filled in from knowledge/organisation.yml by build.py.
var PHONE = "{{phone}}";
var PHONE_HREF = "{{phone_href}}";
var HUMAN_REQUEST = "Jag vill prata med en människa";
var CANCEL_WAIT = { text: "Jag vill sluta vänta", payload: "/cancel_handover" };

var ICONS = {
  chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
  close: "M6 6l12 12M18 6L6 18",
  send: "M4 12l16-8-6 16-2.5-6.5z",
  external: "M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5"
};

function h(tag, attrs, children) {
  var el = document.createElement(tag);
  for (var k in attrs || {}) {
    if (attrs[k] == null || attrs[k] === false) continue;
    if (k === "text") el.textContent = attrs[k];
    else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), attrs[k]);
    else el.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
  }
  (children || []).forEach(function (c) {
    if (c != null) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  });
  return el;
}

function icon(name) {
  var ns = "http://www.w3.org/2000/svg";
  var svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "icon");
  var path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name]);
  svg.appendChild(path);
  return svg;
}

function phoneLink() {
  return h("a", { href: PHONE_HREF, text: PHONE });
}

function minutes(n) {
  if (n < 1) return "mindre än en minut";
  return "cirka " + n + (n === 1 ? " minut" : " minuter");
}

// Texts for the error area, in plain Swedish. Arrays mix text and nodes.
var ERRORS = {
  offline: function () { return ["Vi kan inte nå chatten just nu. Ring Medborgarservice på ", phoneLink(), "."]; },
  offline_pending: function () { return ["Vi kan inte nå chatten just nu. Ring Medborgarservice på ", phoneLink(), ". Ditt meddelande skickas så snart vi har kontakt igen, om du stannar kvar på sidan."]; },
  busy: function () { return ["Det är många som skriver just nu. Ditt meddelande skickas om en liten stund."]; },
  too_long: function () { return ["Meddelandet är för långt. Det får vara högst 2 000 tecken. Korta det och skicka igen."]; },
  rejected: function () { return ["Meddelandet gick inte att skicka. Försök igen, eller ring Medborgarservice på ", phoneLink(), "."]; },
  server_error: function () { return ["Något gick fel hos oss, så meddelandet kunde inte skickas. Det står kvar i skrivfältet. Försök igen om en stund, eller ring Medborgarservice på ", phoneLink(), "."]; },
  gone: function () { return ["Den här chatten har avslutats. Skriv ett nytt meddelande om du vill börja om."]; }
};
var RETRYABLE = { offline: true, offline_pending: true };
var FEEDBACK = {
  question: "Fick du svar på din fråga?",
  comment: "Vad saknades i svaret? (frivilligt)",
  hint: "Skriv inte personnummer eller andra känsliga uppgifter. Högst " + MAX_COMMENT_CHARS + " tecken.",
  thanks: "Tack för ditt svar!",
  thanksNo: "Tack! Vi använder ditt svar för att göra chatten bättre.",
  failed: "Svaret kunde inte skickas. Försök igen om en stund."
};

export function createUi(shadow, assetBase) {
  var conv = null;
  var nodes = typeof WeakMap === "function" ? new WeakMap() : null;
  var errorKind = null;
  var unreadShown = false;

  var launcherText = h("span", { text: "Chatta med oss" });
  var badge = h("span", { "class": "badge", hidden: true, text: "Nytt meddelande" });
  var launcher = h("button", { type: "button", "class": "launcher", "aria-expanded": "false", "aria-controls": "mc-panel", onclick: function () { open(true); } }, [icon("chat"), launcherText, badge]);
  var unreadStatus = h("div", { "class": "sr", role: "status" });
  // Thanks for "Fick du svar på din fråga?", read out politely.
  var feedbackStatus = h("div", { "class": "sr", role: "status", "aria-live": "polite" });

  var closeBtn = h("button", { type: "button", "class": "icon-btn", "aria-label": "Stäng chatten", title: "Stäng chatten", onclick: function () { close(); } }, [icon("close")]);
  var humanBtn = h("button", { type: "button", "class": "tool", onclick: function () { send(HUMAN_REQUEST); } , text: "Prata med en människa" });
  var clearBtn = h("button", { type: "button", "class": "tool tool-quiet", "aria-expanded": "false", "aria-controls": "mc-confirm", onclick: function () { showConfirm(true); }, text: "Avsluta och rensa" });

  var confirmYes = h("button", { type: "button", "class": "tool tool-strong", onclick: function () { clearAll(); }, text: "Ja, avsluta och rensa" });
  var confirmNo = h("button", { type: "button", "class": "tool", onclick: function () { showConfirm(false); clearBtn.focus(); }, text: "Nej, fortsätt chatta" });
  var confirm = h("div", { id: "mc-confirm", "class": "confirm", role: "group", "aria-labelledby": "mc-confirm-q", hidden: true }, [
    h("p", { id: "mc-confirm-q", text: "Vill du avsluta chatten? Allt som står här rensas bort." }),
    h("div", { "class": "row" }, [confirmYes, confirmNo])
  ]);

  var stateText = h("p", {});
  var cancelBtn = h("button", { type: "button", "class": "tool", hidden: true, onclick: function () { send(CANCEL_WAIT.text, CANCEL_WAIT.payload); }, text: "Sluta vänta" });
  var stateBar = h("div", { "class": "statebar", hidden: true }, [stateText, cancelBtn]);

  var notice = h("div", { id: "mc-notice", "class": "notice" }, [
    h("p", {}, [h("strong", { text: "Du chattar med en automatisk assistent." }), " Den svarar på vanliga frågor om Mjölby kommun."]),
    h("p", { text: "Skriv inte ditt personnummer eller andra känsliga uppgifter, till exempel om din hälsa." }),
    h("p", { "class": "notice-links" }, [
      externalLink(assetBase + "om-chatten.html", "Så hanterar vi dina uppgifter"),
      externalLink(assetBase + "tillganglighet.html", "Tillgänglighetsredogörelse")
    ])
  ]);
  var log = h("div", { "class": "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": "Meddelanden i chatten" });
  var scroller = h("div", { "class": "scroll" }, [notice, log]);

  var typing = h("div", { "class": "typing", role: "status" });
  var alertText = h("p", {});
  var retryBtn = h("button", { type: "button", "class": "tool", hidden: true, onclick: function () { if (conv) conv.retryNow(); }, text: "Försök igen" });
  var alertBox = h("div", { "class": "alert", role: "alert" });

  var input = h("textarea", { id: "mc-input", rows: "1", "aria-describedby": "mc-hint", autocomplete: "off", spellcheck: "true" });
  var counter = h("span", { "class": "count", "aria-hidden": "true", text: "0/" + MAX_CHARS });
  var sendBtn = h("button", { type: "submit", "class": "send" }, [icon("send"), h("span", { text: "Skicka" })]);
  var form = h("form", { "class": "composer", novalidate: true }, [
    h("div", { "class": "row labelrow" }, [h("label", { "for": "mc-input", text: "Skriv ditt meddelande" }), counter]),
    h("div", { "class": "row" }, [input, sendBtn]),
    h("p", { id: "mc-hint", "class": "sr", text: "Skicka med Enter. Ny rad med Skift och Enter. Högst 2 000 tecken." })
  ]);

  var panel = h("div", { id: "mc-panel", "class": "panel", role: "dialog", "aria-labelledby": "mc-title", "aria-describedby": "mc-notice", hidden: true }, [
    h("div", { "class": "head" }, [h("h2", { id: "mc-title", text: "Chatta med Mjölby kommun" }), closeBtn]),
    stateBar,
    scroller,
    typing,
    alertBox,
    form,
    feedbackStatus,
    confirm,
    h("div", { "class": "tools" }, [humanBtn, clearBtn])
  ]);

  var root = h("div", { "class": "root", lang: "sv", dir: "ltr" }, [launcher, unreadStatus, panel]);
  shadow.appendChild(root);

  function externalLink(url, title) {
    return h("a", { href: url, target: "_blank", rel: "noopener noreferrer", "class": "ext" }, [title, h("span", { "class": "sr", text: " (öppnas i ny flik)" }), icon("external")]);
  }

  // ---- events ----
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return input.focus();
    if (countChars(text) > MAX_CHARS) {
      setError("too_long");
      return input.focus();
    }
    input.value = "";
    onInput();
    send(text);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (form.requestSubmit) form.requestSubmit();
      else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  input.addEventListener("input", onInput);
  panel.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" && e.key !== "Esc") return;
    e.stopPropagation();
    if (!confirm.hidden) {
      showConfirm(false);
      clearBtn.focus();
    } else {
      close();
    }
  });

  function onInput() {
    var n = countChars(input.value);
    var over = n > MAX_CHARS;
    counter.textContent = n + "/" + MAX_CHARS + (over ? " – för långt" : "");
    counter.classList.toggle("over", over);
    if (!over && errorKind === "too_long") setError(null);
    // Grow with the text up to the CSS max-height, then scroll.
    input.style.height = "auto";
    input.style.height = input.scrollHeight + 2 + "px";
  }

  function send(text, payload) {
    conv.send(text, payload);
    input.focus();
  }

  function open(focus) {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    badge.hidden = true;
    unreadShown = false;
    unreadStatus.textContent = "";
    conv.setOpen(true);
    scrollDown();
    if (focus) input.focus();
  }

  function close() {
    if (panel.hidden) return;
    showConfirm(false);
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    conv.setOpen(false);
    launcher.focus();
  }

  function showConfirm(show) {
    confirm.hidden = !show;
    clearBtn.setAttribute("aria-expanded", String(show));
    if (show) confirmYes.focus();
  }

  function clearAll() {
    conv.clear();
    close();
  }

  function setError(kind) {
    if (kind === errorKind) return;
    keepBottom(function () { showError(kind); });
  }

  function showError(kind) {
    errorKind = kind;
    alertBox.textContent = "";
    if (!kind) return;
    alertText.textContent = "";
    ERRORS[kind]().forEach(function (part) {
      alertText.appendChild(typeof part === "string" ? document.createTextNode(part) : part);
    });
    retryBtn.hidden = !RETRYABLE[kind];
    alertBox.appendChild(alertText);
    alertBox.appendChild(retryBtn);
    alertBox.className = "alert alert-" + (kind === "busy" || kind === "gone" ? "info" : "error");
  }

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }

  function scrollDown() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  // Banners above and below the messages shrink the message area; keep the
  // newest message in view when the citizen was reading at the bottom.
  function keepBottom(change) {
    var stick = nearBottom();
    change();
    if (stick) scrollDown();
  }

  function senderLabel(m) {
    if (m.sender === "user") return h("span", { "class": "sr", text: "Du skrev: " });
    if (m.sender === "agent") return h("p", { "class": "who", text: m.agent ? m.agent + ", Medborgarservice" : "Medborgarservice" });
    if (m.sender === "bot") return h("span", { "class": "sr", text: "Assistenten: " });
    return h("span", { "class": "sr", text: "Meddelande: " });
  }

  function renderButtons(m) {
    if (!m.buttons.length || m.used) return null;
    return h("div", { "class": "quick" + (m.rating ? " rating" : ""), role: "group", "aria-label": m.rating ? "Betyg från 1 till 5" : "Svarsalternativ" }, m.buttons.map(function (b) {
      return h("button", { type: "button", "class": "quick-btn", text: b.title, onclick: function () { send(b.title, b.payload); } });
    }));
  }

  // "Fick du svar på din fråga?" under an answer: Ja, or Nej with an optional
  // comment. Asked once per answer; the thanks are announced politely.
  function renderFeedback(m) {
    if (!m.ask || !m.cid) return null;
    var box = h("div", { "class": "feedback" });
    if (m.answered) {
      box.appendChild(thanksText(m.answered === "yes"));
      return box;
    }
    var qid = "mc-fb-" + m.id;
    var error = h("p", { "class": "fb-error", role: "alert" });
    var yes = h("button", { type: "button", "class": "quick-btn", text: "Ja", onclick: function () { answer(true, null); } });
    var no = h("button", { type: "button", "class": "quick-btn", text: "Nej", onclick: askComment });
    var ask = h("div", { "class": "fb-ask", role: "group", "aria-labelledby": qid }, [
      h("p", { id: qid, "class": "fb-q", text: FEEDBACK.question }),
      h("div", { "class": "row" }, [yes, no])
    ]);
    box.appendChild(ask);
    box.appendChild(error);

    function askComment() {
      var cid = "mc-fb-c-" + m.id;
      var hid = "mc-fb-h-" + m.id;
      var comment = h("textarea", { id: cid, rows: "2", maxlength: String(MAX_COMMENT_CHARS), "aria-describedby": hid });
      var sendNo = h("button", { type: "submit", "class": "quick-btn", text: "Skicka svaret" });
      var form = h("form", { "class": "fb-form", novalidate: true, "aria-labelledby": qid }, [
        h("p", { id: qid, "class": "fb-q", text: FEEDBACK.question + " Nej." }),
        h("label", { "for": cid, text: FEEDBACK.comment }),
        comment,
        h("p", { id: hid, "class": "fb-hint", text: FEEDBACK.hint }),
        h("div", { "class": "row" }, [sendNo])
      ]);
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        answer(false, comment.value.trim());
      });
      box.replaceChild(form, ask);
      ask = form;
      comment.focus();
    }

    function answer(helped, comment) {
      // Disabled buttons drop focus: remember where it was to put it back.
      var focused = shadow.activeElement && box.contains(shadow.activeElement) ? shadow.activeElement : null;
      var buttons = ask.querySelectorAll("button");
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
      error.textContent = "";
      conv.feedback(m, helped, comment).then(function () {
        box.textContent = "";
        box.appendChild(thanksText(helped));
        feedbackStatus.textContent = "";
        feedbackStatus.textContent = helped ? FEEDBACK.thanks : FEEDBACK.thanksNo;
        if (focused) input.focus();
      }, function () {
        Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
        error.textContent = FEEDBACK.failed;
        if (focused) focused.focus();
      });
    }
    return box;
  }

  function thanksText(helped) {
    return h("p", { "class": "fb-thanks", text: helped ? FEEDBACK.thanks : FEEDBACK.thanksNo });
  }

  function renderMessage(m) {
    var label = senderLabel(m);
    var bubble = h("div", { "class": "bubble" }, [label.tagName === "SPAN" ? label : null, h("span", { "class": "text", text: m.text })]);
    var links = m.links.length ? h("ul", { "class": "links" }, m.links.map(function (l) {
      return h("li", {}, [externalLink(l.url, l.title)]);
    })) : null;
    var el = h("div", { "class": "msg msg-" + m.sender }, [
      label.tagName === "P" ? label : null,
      bubble,
      links,
      renderButtons(m),
      renderFeedback(m),
      m.pending ? h("p", { "class": "pending", text: "Skickas …" }) : null
    ]);
    return el;
  }

  var view = {
    add: function (m) {
      var stick = m.sender === "user" || nearBottom();
      var el = renderMessage(m);
      if (nodes) nodes.set(m, el);
      log.appendChild(el);
      if (stick) scrollDown();
    },
    // In-place changes only, so the log does not announce a message twice.
    update: function (m) {
      var el = nodes && nodes.get(m);
      if (!el) return;
      var pending = el.querySelector(".pending");
      if (pending && !m.pending) pending.remove();
      var quick = el.querySelector(".quick");
      if (quick && m.used) {
        var hadFocus = shadow.activeElement && quick.contains(shadow.activeElement);
        quick.remove();
        if (hadFocus) input.focus();
      }
      var text = el.querySelector(".text");
      if (text && text.textContent !== m.text) text.textContent = m.text;
    },
    remove: function (m) {
      var el = nodes && nodes.get(m);
      if (el) el.remove();
    },
    typing: function (on) {
      var want = on ? "Assistenten skriver …" : "";
      if (typing.textContent === want) return;
      keepBottom(function () {
        typing.textContent = "";
        if (on) typing.appendChild(h("span", { "class": "dots", "aria-hidden": "true" }, [h("span"), h("span"), h("span")]));
        if (on) typing.appendChild(document.createTextNode(want));
      });
    },
    error: setError,
    state: function (state, queue) {
      humanBtn.hidden = state === "queued" || state === "agent";
      var text = "";
      if (state === "queued") {
        text = "Du står i kö till Medborgarservice.";
        if (queue && queue.position != null) text += " Du är nummer " + queue.position + " i kön.";
        if (queue && queue.wait != null) text += " Beräknad väntetid: " + minutes(queue.wait) + ".";
      } else if (state === "agent") {
        text = "Du chattar nu med en medarbetare på Medborgarservice.";
      } else if (state === "closed") {
        text = "Samtalet med Medborgarservice är avslutat.";
      }
      keepBottom(function () {
        stateText.textContent = text;
        stateBar.hidden = !text;
        cancelBtn.hidden = state !== "queued";
        stateBar.className = "statebar statebar-" + state;
      });
    },
    restoreInput: function (text) {
      input.value = input.value ? text + "\n" + input.value : text;
      onInput();
      input.focus();
    },
    unread: function (m) {
      if (m.sender === "user" || unreadShown) return;
      unreadShown = true;
      badge.hidden = false;
      unreadStatus.textContent = m.sender === "agent" ? "Nytt meddelande från Medborgarservice i chatten." : "Nytt meddelande i chatten.";
    },
    reset: function () {
      log.textContent = "";
      typing.textContent = "";
      setError(null);
      view.state("bot", null);
      input.value = "";
      onInput();
      badge.hidden = true;
      unreadShown = false;
      unreadStatus.textContent = "";
      feedbackStatus.textContent = "";
    }
  };

  return {
    view: view,
    bind: function (c) {
      conv = c;
    },
    open: open,
    close: close,
    isOpen: function () { return !panel.hidden; }
  };
}
