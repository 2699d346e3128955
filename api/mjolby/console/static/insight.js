// Draws the insight page's charts with the vendored Frappe Charts (SVG).
// Every chart is hidden from assistive technology: the table after it has the same figures.
(function () {
  "use strict";
  if (!window.frappe || !window.frappe.Chart) return;
  var colours = ["#1f5fa0", "#8a4b08", "#1e6b3a"];
  document.querySelectorAll(".insight-chart[data-chart]").forEach(function (element) {
    var spec;
    try { spec = JSON.parse(element.getAttribute("data-chart")); } catch (e) { return; }
    if (!spec.labels.length) return;
    new window.frappe.Chart(element, {
      type: spec.type,
      height: 240,
      colors: colours,
      data: { labels: spec.labels, datasets: spec.datasets },
      axisOptions: { xIsSeries: true, xAxisMode: "tick" },
      lineOptions: { hideDots: 1, regionFill: 0 },
      barOptions: { spaceRatio: 0.4 },
      animate: 0,
      truncateLegends: 1
    });
    element.classList.add("drawn");
  });
})();
