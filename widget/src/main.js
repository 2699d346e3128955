// Bootstrapping: reads the configuration from the script tag, mounts the
// widget in a shadow root and exposes the one global, window.MjolbyChat.

import CSS from "./styles.css";
import { createApi } from "./transport.js";
import { createConversation } from "./conversation.js";
import { createUi } from "./ui.js";

var VERSION = "1.0.0";

function findScript() {
  var current = document.currentScript;
  if (current && current.src) return current;
  var all = document.querySelectorAll("script[src]");
  for (var i = all.length - 1; i >= 0; i--) {
    if (/\/widget(\.min)?\.js(\?|#|$)/.test(all[i].src)) return all[i];
  }
  return null;
}

// data-api empty or missing means the origin the script was loaded from.
function apiBase(script) {
  var src = script && script.src ? script.src : location.href;
  var configured = script ? (script.getAttribute("data-api") || "").trim() : "";
  try {
    var url = new URL(configured || new URL(src).origin, src);
    return (url.origin + url.pathname).replace(/\/+$/, "");
  } catch (e) {
    return location.origin;
  }
}

function assetBase(script) {
  var src = script && script.src ? script.src : location.href;
  return new URL(".", src).href;
}

function mount(script) {
  var host = document.createElement("mjolby-chat");
  host.setAttribute("lang", "sv");
  var shadow = host.attachShadow({ mode: "open" });
  // Constructable stylesheets are not blocked by a strict style-src policy
  // on the host page; fall back to a <style> element where unsupported.
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch (e) {
    var style = document.createElement("style");
    style.textContent = CSS;
    shadow.appendChild(style);
  }
  var ui = createUi(shadow, assetBase(script));
  var conv = createConversation(createApi(apiBase(script)), ui.view);
  ui.bind(conv);
  document.body.appendChild(host);
  var wasOpen = conv.restore();
  // Reopen after navigation without taking focus from the new page.
  if (wasOpen) ui.open(false);
  window.addEventListener("online", function () { conv.retryNow(); });

  return Object.freeze({
    version: VERSION,
    open: function () { ui.open(true); },
    close: function () { ui.close(); }
  });
}

if (!window.MjolbyChat && typeof window.ShadowRoot === "function") {
  var script = findScript();
  var api = null;
  window.MjolbyChat = {
    version: VERSION,
    open: function () { if (api) api.open(); },
    close: function () { if (api) api.close(); }
  };
  var start = function () {
    api = mount(script);
  };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
}
