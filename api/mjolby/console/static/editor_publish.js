/* The publish page follows a running training: phase, percentage and time,
   every two seconds, and shows the result when it is done. Without this
   script, reloading the page shows the same. */
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box) return;
  var id = box.getAttribute("data-job");
  var lastPhase = "";

  function set(idName, text) {
    var el = document.getElementById(idName);
    if (el) el.textContent = text;
  }

  function poll() {
    fetch("/staff/editor/publicera/jobb/" + encodeURIComponent(id) + ".json", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) return;
        set("job-phase", job.phase_label);
        set("job-elapsed", job.elapsed || "0 s");
        set("job-percent", job.percent + " %");
        var bar = document.getElementById("job-bar");
        if (bar) bar.value = job.percent;
        if (job.phase !== lastPhase) { set("job-live", job.phase_label); lastPhase = job.phase; }
        if (job.status !== "queued" && job.status !== "running") {
          window.location.assign("/staff/editor/publicera");
          return;
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
