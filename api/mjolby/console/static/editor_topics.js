// Checks a topic's fields as the editor types (the form works without this).
(function () {
  "use strict";
  var form = document.getElementById("topic-form");
  if (!form || !form.dataset.check || !window.fetch) return;
  var timer = null;
  var fields = ["title", "answer", "child_answer", "links", "buttons", "owner", "reviewed", "sources",
                "confidence", "examples"];

  function show(result) {
    fields.forEach(function (name) {
      var live = document.getElementById(name + "-live");
      if (!live) return;
      var errors = (result.errors && result.errors[name]) || [];
      var warnings = (result.warnings && result.warnings[name]) || [];
      var text = errors.concat(warnings).join(" ");
      if (live.textContent !== text) live.textContent = text;
    });
  }

  function check() {
    fetch(form.dataset.check, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) { if (result) show(result); })
      .catch(function () { /* checking again on save */ });
  }

  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 700);
  });
})();
